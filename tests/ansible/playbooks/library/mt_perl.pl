#!/usr/bin/perl
# WANT_JSON
# Perl module: echoes the "name" argument back (no JSON library needed).
use strict;
use warnings;
open(my $fh, '<', $ARGV[0]) or die "cannot open args: $!";
my $args = do { local $/; <$fh> };
my ($name) = $args =~ /"name":\s*"([^"]*)"/;
print "{\"changed\": false, \"greeting\": \"hello $name\", \"lang\": \"perl\"}\n";

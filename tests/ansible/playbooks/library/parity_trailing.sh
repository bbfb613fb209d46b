#!/bin/sh
# WANT_JSON
# Prints its JSON result, then junk (async parity tests).
printf '{"changed": false}\n'
echo "trailing junk"

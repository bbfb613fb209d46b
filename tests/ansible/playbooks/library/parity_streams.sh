#!/bin/sh
# WANT_JSON
# Prints its result on stdout and a line on stderr (async parity tests).
echo "to stderr" >&2
printf '{"changed": false, "said": "to stdout"}\n'

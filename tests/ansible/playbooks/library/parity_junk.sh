#!/bin/sh
# WANT_JSON
# Prints no JSON at all (async parity tests).
echo "not json at all"
echo "complaint" >&2

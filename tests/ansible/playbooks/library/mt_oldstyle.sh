#!/bin/bash
# Old-style module: $1 is a file of key=value pairs (shell-quoted).
source "$1"
echo "{\"changed\": true, \"color\": \"$color\", \"words\": \"$words\"}"

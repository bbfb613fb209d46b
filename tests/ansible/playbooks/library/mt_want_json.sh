#!/bin/sh
# WANT_JSON
# Non-Python module: receives the path of a JSON args file as $1.
args=$(cat "$1")
printf '{"changed": false, "raw_args": %s, "shell": "sh"}\n' "$args"

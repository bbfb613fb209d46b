#!/bin/sh
echo "script ran with $# args: $*"
echo "script stderr" >&2
exit ${MT_SCRIPT_RC:-0}

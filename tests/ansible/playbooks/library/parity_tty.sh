#!/bin/sh
# WANT_JSON
# A program module that fails without JSON, writing to both streams: its
# module_stdout/module_stderr show whether vanilla ran it on a TTY.
echo "to stdout"
echo "to stderr" >&2
exit 1

#!/usr/local/bin/mtbash
# WANT_JSON
# Runs only if ansible_mtbash_interpreter rewrites the shebang.
echo "{\"changed\": false, \"bash_version_set\": \"${BASH_VERSION:+yes}\"}"

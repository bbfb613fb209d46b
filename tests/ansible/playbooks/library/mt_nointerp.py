#!/usr/bin/mt-no-such-python
# WANT_JSON
print('{"changed": false}')

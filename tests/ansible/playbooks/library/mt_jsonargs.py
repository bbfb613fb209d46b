#!/usr/bin/python
# JSON-args module: Ansible substitutes the arguments into the source.
from __future__ import annotations
import json
ARGS = json.loads('<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>')
print(json.dumps({'changed': False, 'got': ARGS.get('value')}))

#!/usr/bin/python
# A new-style module that reports which of `names` it can import.
from __future__ import annotations

import importlib

from ansible.module_utils.basic import AnsibleModule


def importable(name):
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def main():
    module = AnsibleModule(argument_spec=dict(names=dict(type='list', elements='str', required=True)))
    module.exit_json(changed=False, importable={name: importable(name) for name in module.params['names']})


if __name__ == '__main__':
    main()

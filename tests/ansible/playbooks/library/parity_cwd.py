#!/usr/bin/python
# A new-style module that reports the directory it started in (test_parity.py).
from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={})
    module.exit_json(changed=False, cwd=os.getcwd())


if __name__ == '__main__':
    main()

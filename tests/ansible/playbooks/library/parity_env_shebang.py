#!/usr/bin/env python3
# A new-style module whose interpreter line runs python3 through env
# (test_parity.py compares its result with vanilla's).
from __future__ import annotations

import sys

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={})
    module.exit_json(changed=False, version=list(sys.version_info[:2]))


if __name__ == '__main__':
    main()

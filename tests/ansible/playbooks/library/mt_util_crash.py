#!/usr/bin/python
# A new-style module whose module_utils raises (see module_utils/mt_crashing.py).
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.mt_crashing import explode


def main():
    AnsibleModule(argument_spec=dict())
    explode(1)


if __name__ == '__main__':
    main()

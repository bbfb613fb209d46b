#!/usr/bin/python3
# A new-style module whose interpreter line names python3, not python, so
# ansible-core keeps it unless ansible_python3_interpreter says otherwise
# (test_parity.py compares its results with vanilla's; the pid tells
# whether ours ran in the connection's interpreter).
from __future__ import annotations

import os
import sys

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={})
    module.exit_json(changed=False, version=list(sys.version_info[:2]), pid=os.getpid())


if __name__ == '__main__':
    main()

#!/usr/bin/python
# A new-style module with a playbook-local module_util; reports where it ran.
from __future__ import annotations

import os
import sys

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.mt_util import shout


def main():
    module = AnsibleModule(argument_spec=dict(text=dict(type='str', required=True),
                                              secret=dict(type='str', no_log=True)),
                           supports_check_mode=True)
    module.exit_json(changed=not module.check_mode, shouted=shout(module.params['text']),
                     argv_len=len(sys.argv), env_probe=os.environ.get('MT_PROBE'),
                     cwd_exists=os.path.isdir(os.getcwd()), pid=os.getpid())


if __name__ == '__main__':
    main()

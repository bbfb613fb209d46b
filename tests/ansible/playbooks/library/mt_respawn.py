#!/usr/bin/python
# Probes for an interpreter that can import a library, then respawns under
# it, as apt and dnf do when python3-apt / python3-dnf are missing.
from __future__ import annotations

import os
import sys

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.respawn import has_respawned, probe_interpreters_for_module, respawn_module


def main():
    module = AnsibleModule(argument_spec=dict(library=dict(type='str', default='json')))
    if not has_respawned():
        interpreter = probe_interpreters_for_module([sys.executable, '/usr/bin/python3'], module.params['library'])
        if interpreter is None:
            module.fail_json(msg='no interpreter can import ansible.module_utils and %s' % module.params['library'])
        respawn_module(interpreter)
    module.exit_json(changed=False, respawned=has_respawned(), pid=os.getpid(), parent_pid=os.getppid())


if __name__ == '__main__':
    main()

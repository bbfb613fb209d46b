#!/usr/bin/python
# A new-style module reporting what the programs it starts with run_command
# inherit: signal dispositions and mask, umask (test_parity.py compares it
# with vanilla; test_exec_runner.py also asks, with `marker`, whether Python
# code ran in the child between fork and exec).
from __future__ import annotations

import os
import signal

from ansible.module_utils.basic import AnsibleModule

STATUS = ['grep', '-E', '^Sig(Blk|Ign|Cgt)', '/proc/self/status']
UMASK = ['sh', '-c', 'umask; grep -E "^Sig(Blk|Ign|Cgt)" /proc/self/status']


def main():
    module = AnsibleModule(argument_spec={'marker': {'type': 'str'}})
    marker = module.params['marker']
    ran = []
    if marker:
        # runs in a fork child only when Python runs there (a preexec_fn)
        os.register_at_fork(after_in_child=lambda: os.close(os.open(marker, os.O_CREAT | os.O_WRONLY, 0o600)))
    result = {'sigint_default_handler': signal.getsignal(signal.SIGINT) is signal.default_int_handler,
              'sigpipe_ignored': signal.getsignal(signal.SIGPIPE) is signal.SIG_IGN}
    for key, argv, umask in (('plain', STATUS, None), ('shell', UMASK, None), ('umask', UMASK, 0o077)):
        rc, out, err = module.run_command(argv, umask=umask)
        result[key] = {'rc': rc, 'stdout': out.splitlines(), 'stderr': err}
        if marker:
            ran.append(os.path.exists(marker))
            if ran[-1]:
                os.unlink(marker)
    if marker:
        result['python_in_child'] = ran
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()

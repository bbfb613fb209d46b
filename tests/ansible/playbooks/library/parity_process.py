#!/usr/bin/python
# A new-style module reporting what its own process looks like (test_parity.py
# compares it with vanilla): the signal handlers Python code sees, the
# RLIMIT_NOFILE soft limit, and what a program it starts sees.
from __future__ import annotations

import resource
import signal

from ansible.module_utils.basic import AnsibleModule

SIGNALS = ('SIGTERM', 'SIGINT', 'SIGPIPE', 'SIGCHLD', 'SIGHUP')


def handler_name(handler):
    if handler is signal.default_int_handler:
        return 'default_int_handler'
    if handler in (signal.SIG_DFL, signal.SIG_IGN):
        return str(signal.Handlers(handler).name)
    return 'python handler' if callable(handler) else repr(handler)


def main():
    module = AnsibleModule(argument_spec={})
    handlers = {name: handler_name(signal.getsignal(getattr(signal, name))) for name in SIGNALS}
    # what signal.signal() says was there before, as a module installing its own sees it
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    handlers['SIGTERM replaced'] = handler_name(previous)
    rc, out, err = module.run_command(['sh', '-c', 'ulimit -n; grep -E "^Sig(Ign|Cgt)" /proc/self/status'])
    # a program inherits what the module ignores
    handlers['SIGTERM before ignored'] = handler_name(signal.signal(signal.SIGTERM, signal.SIG_IGN))
    _, ignored, _ = module.run_command(['grep', '-E', '^SigIgn', '/proc/self/status'])
    handlers['SIGTERM ignored'] = handler_name(signal.signal(signal.SIGTERM, signal.SIG_DFL))
    module.exit_json(changed=False, handlers=handlers, nofile_soft=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
                     child={'rc': rc, 'stdout': out.splitlines(), 'stderr': err, 'ignoring': ignored.strip()})


if __name__ == '__main__':
    main()

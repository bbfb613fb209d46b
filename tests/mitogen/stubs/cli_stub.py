#!/usr/bin/env python3
"""Stand-in for container CLIs (lxc-attach, lxc, jexec, kubectl, machinectl, podman, ...).

Started by connection methods under test on the controller, through a
symlink named like the real tool.  It appends its argv as one JSON line to
$MITOGEN_STUB_LOG, then either answers a "which pid leads this container"
query (setns) with $MITOGEN_STUB_PID in the tool's output format, or execs
the Python command it was given: the first absolute path followed by "-c".
"""
import json
import os
import sys

PID_QUERIES = {
    # tool name -> (argv marker, output template)
    'docker': ('inspect', '%s\n'),
    'lxc-info': ('--pid', '%s\n'),
    'lxc': ('info', 'Name: c1\nStatus: RUNNING\nPID: %s\n'),
    'machinectl': ('show', 'Leader=%s\n'),
}


def record(argv):
    path = os.environ.get('MITOGEN_STUB_LOG')
    if path:
        with open(path, 'a') as fp:
            fp.write(json.dumps(argv) + '\n')


def answer_pid_query(tool, argv):
    marker, template = PID_QUERIES.get(tool, (None, None))
    if marker is None or marker not in argv:
        return False
    sys.stdout.write(template % os.environ.get('MITOGEN_STUB_PID', '0'))
    return True


def find_command(argv):
    for i in range(1, len(argv) - 1):
        if argv[i].startswith('/') and argv[i + 1] == '-c':
            return argv[i:]
    return None


def main():
    tool = os.path.basename(sys.argv[0])
    argv = [tool] + sys.argv[1:]
    record(argv)
    if answer_pid_query(tool, argv):
        return 0
    command = find_command(argv)
    if command is None:
        sys.stderr.write('%s stub: no command to run in %r\n' % (tool, argv))
        return 2
    os.execv(command[0], command)


if __name__ == '__main__':
    sys.exit(main())

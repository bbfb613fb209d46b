"""Connection type `mitogen_ssh`: ssh connections through persistent Mitogen interpreters

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `ssh` here); everything is in
ansible_mitogen/connection.py.
"""
import os
import sys

try:
    import ansible_mitogen.connection
except ImportError:  # running from a checkout that is not on sys.path
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
    import ansible_mitogen.connection

DOCUMENTATION = """
name: mitogen_ssh
short_description: ssh connections through persistent Mitogen interpreters
description:
  - Accepts every option of the builtin C(ssh) connection plugin (same
    variables, ansible.cfg keys, environment and command-line flags); see
    C(ansible-doc -t connection ssh).
  - Runs tasks in a persistent Python interpreter on the target, reached
    through the Mitogen multiplexer of the current run.
author: ansible_mitogen
options:
  mitogen_via:
    description: Reach this host through another inventory host, C(host) or
      C(become_user@host); comma-separated for longer chains.
    vars: [{name: mitogen_via}]
  mitogen_mask_remote_name:
    description: Show target processes as C(python(mitogen:ansible)) instead
      of naming the controller user, host and pid.
    type: bool
    vars: [{name: mitogen_mask_remote_name}]
  mitogen_task_isolation:
    description: C(fork) runs each task in a fresh fork of the interpreter.
    vars: [{name: mitogen_task_isolation}]
  mitogen_ssh_debug_level:
    description: ssh -v count (1-3) logged at -vvv, for troubleshooting.
    type: int
    vars: [{name: mitogen_ssh_debug_level}]
  mitogen_ssh_keepalive_interval:
    description: Seconds between ssh keepalive probes (ServerAliveInterval).
    type: int
    default: 30
    vars: [{name: mitogen_ssh_keepalive_interval}]
  mitogen_ssh_keepalive_count:
    description: Unanswered keepalives before ssh gives up (ServerAliveCountMax).
    type: int
    default: 10
    vars: [{name: mitogen_ssh_keepalive_count}]
  mitogen_ssh_compression:
    description: Enable ssh compression.
    type: bool
    default: true
    vars: [{name: mitogen_ssh_compression}]
"""

ansible_mitogen.connection.register_options("mitogen_ssh", "ssh", DOCUMENTATION)


class Connection(ansible_mitogen.connection.Connection):
    transport = "mitogen_ssh"
    login_method = "ssh"

"""Connection type `mitogen_ssh`: ssh connections, over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `ssh` here).

Generated from ansible_mitogen/connection_types.yml ("ssh") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_ssh
short_description: ssh to the target, tasks run in a persistent Mitogen interpreter
description:
  - Accepts every option of the builtin C(ssh) connection plugin (same
    variables, ansible.cfg keys, environment and command-line flags); see
    C(ansible-doc -t connection ssh). Tasks run in a persistent Python
    interpreter on the target, reached through the Mitogen multiplexer of
    the current run.
author: ansible_mitogen
options:
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

Connection = ansible_mitogen.executor.connection.connection_type("ssh", __name__)

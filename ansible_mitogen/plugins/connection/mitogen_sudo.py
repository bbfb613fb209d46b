"""Connection type `mitogen_sudo`: sudo from the previous hop (mitogen_via) or the controller, as a connection type

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `local` here); everything is in
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
name: mitogen_sudo
short_description: sudo from the previous hop (mitogen_via) or the controller, as a connection type
description:
  - Accepts every option of the builtin C(local) connection plugin (same
    variables, ansible.cfg keys, environment and command-line flags); see
    C(ansible-doc -t connection local).
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
  mitogen_sudo_path:
    description: Path of the sudo program.
    vars: [{name: mitogen_sudo_path}, {name: ansible_sudo_exe}]
"""

ansible_mitogen.connection.register_options("mitogen_sudo", "local", DOCUMENTATION)


class Connection(ansible_mitogen.connection.Connection):
    transport = "mitogen_sudo"
    login_method = "sudo"

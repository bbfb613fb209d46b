"""Connection type `mitogen_sudo`: sudo from the previous hop (mitogen_via) or the controller, over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `sudo` here).

Generated from ansible_mitogen/connection_types.yml ("sudo") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_sudo
short_description: sudo as a connection hop, over Mitogen
description:
  - Switches user with C(sudo) on the controller, or on the last host of
    C(mitogen_via); C(ansible_user) is the account switched to,
    C(ansible_password) its password. Tasks run in a persistent Mitogen
    interpreter.
author: ansible_mitogen
options:
  mitogen_sudo_path:
    description: Path of the sudo program.
    vars: [{name: mitogen_sudo_path}, {name: ansible_sudo_exe}]
"""

Connection = ansible_mitogen.executor.connection.connection_type("sudo", __name__)

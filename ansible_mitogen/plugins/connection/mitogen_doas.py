"""Connection type `mitogen_doas`: doas from the previous hop (mitogen_via) or the controller, over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `doas` here).

Generated from ansible_mitogen/connection_types.yml ("doas") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_doas
short_description: doas as a connection hop, over Mitogen
description:
  - Switches user with C(doas) on the controller, or on the last host of
    C(mitogen_via); C(ansible_user) is the account switched to,
    C(ansible_password) its password. Tasks run in a persistent Mitogen
    interpreter.
author: ansible_mitogen
options:
  mitogen_doas_path:
    description: Path of the doas program.
    vars: [{name: mitogen_doas_path}, {name: ansible_doas_exe}]
"""

Connection = ansible_mitogen.executor.connection.connection_type("doas", __name__)

"""Connection type `mitogen_local`: local connections, over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `local` here).

Generated from ansible_mitogen/connection_types.yml ("local") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_local
short_description: the controller itself, tasks run in a persistent Mitogen interpreter
description:
  - Accepts every option of the builtin C(local) connection plugin. Tasks
    run in a persistent Python interpreter on the controller, started by the
    Mitogen multiplexer of the current run.
author: ansible_mitogen
options: {}
"""

Connection = ansible_mitogen.executor.connection.connection_type("local", __name__)

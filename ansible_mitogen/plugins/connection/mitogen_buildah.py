"""Connection type `mitogen_buildah`: a Buildah working container (buildah run), over Mitogen.

Loaded by ansible's connection loader in task workers (directly, or because
activation redirects `containers.podman.buildah` here).

Generated from ansible_mitogen/connection_types.yml ("buildah") by
`python -m ansible_mitogen.connection_types`: edit that, not this file.
"""
import os
import sys

if (ROOT := os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))) not in sys.path:
    sys.path.append(ROOT)  # a checkout used without installing it
import ansible_mitogen.executor.connection  # noqa: E402

DOCUMENTATION = """
name: mitogen_buildah
short_description: Mitogen interpreter inside a Buildah working container
description:
  - Runs tasks in a persistent Mitogen interpreter inside a Buildah working
    container (buildah run), reading the same variables as
    containers.podman.buildah (and C(buildah)), which it replaces under our
    strategies.
author: ansible_mitogen
options:
  remote_addr:
    description: Name of the container (or pod, jail, machine) to enter.
    vars: [{name: ansible_host}, {name: inventory_hostname}]
  remote_user:
    description: User inside the container (C(buildah run --user)).
    vars: [{name: ansible_user}]
    env: [{name: ANSIBLE_REMOTE_USER}]
    ini: [{section: defaults, key: remote_user}]
    cli: [{name: user}]
    keyword: [{name: remote_user}]
  mitogen_buildah_path:
    description: Path of the C(buildah) program on the controller or the mitogen_via host.
    vars: [{name: mitogen_buildah_path}]
"""

Connection = ansible_mitogen.executor.connection.connection_type("buildah", __name__)

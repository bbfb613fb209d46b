"""Real test targets for the project: Debian containers reachable by ssh.

Public API used by every engineer's tests and benchmarks; runs on the
controller.  `Testbed.up(n)` builds the image if needed, starts n targets
and writes an ssh_config and an inventory; see docs/testbed.md.
"""
from tests.testbed import users
from tests.testbed.bed import Target, Testbed

__all__ = ["Testbed", "Target", "users"]

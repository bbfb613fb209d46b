"""Shared pytest fixtures: real test-bed targets for every test suite.

Runs on the controller.  `testbed` / `target` give one bookworm target for
the whole session; `testbed_factory` starts more (other distros, latency).
Without docker the tests skip locally but FAIL in CI (CI=true), so CI
cannot pass by testing nothing.
"""
import os
import signal
import subprocess
from typing import Callable, List

import pytest

from tests.testbed import Target, Testbed


def _interrupt(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def pytest_sessionstart(session) -> None:
    # atexit does not run on SIGTERM (e.g. a CI job timeout); an interrupt
    # lets pytest stop and run the finalizers that remove the containers.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def _docker_usable() -> bool:
    try:
        return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _require_docker() -> None:
    if _docker_usable():
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("docker is not usable; the test bed needs it (CI=true)")
    pytest.skip("docker is not usable; the test bed needs it")


@pytest.fixture(scope="session")
def testbed_factory() -> Callable[..., Testbed]:
    """Callable (n=1, distro="bookworm", latency_ms=0) -> Testbed, torn down at session end."""
    _require_docker()
    started: List[Testbed] = []

    def factory(n: int = 1, distro: str = "bookworm", latency_ms: int = 0) -> Testbed:
        tb = Testbed.up(n=n, distro=distro, latency_ms=latency_ms)
        started.append(tb)
        return tb

    yield factory
    for tb in started:
        tb.down()


@pytest.fixture(scope="session")
def testbed(testbed_factory) -> Testbed:
    """One bookworm target shared by the whole session."""
    return testbed_factory(n=1)


@pytest.fixture(scope="session")
def target(testbed) -> Target:
    """The first (only) target of `testbed`."""
    return testbed.targets[0]

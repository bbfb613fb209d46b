"""Derived test-bed image for DebOps runs: bookworm plus pre-downloaded .debs.

Runs on the controller, used by tests/debops/ fixtures and
bench/bench_debops.py.  Starts from `mitogen-testbed:bookworm`, installs
what every real Debian host has but the minbase image lacks (iproute2, so
network facts exist), and fills the apt cache with the packages of
packages.txt.  The result is committed as `mitogen-debops:bookworm`, rebuilt
only when its recipe label (base image id + package list) changes, under a
file lock so concurrent sessions build it once.
"""
import hashlib
import os
import subprocess
import uuid
from typing import List

from tests.testbed import bed, cache
from tests.testbed import image as base_image

TAG = "mitogen-debops:bookworm"
LABEL = "mitogen-debops.recipe"
PRESENT = ("iproute2",)  # installed: a normal Debian host has them
RECIPE_VERSION = "2"  # bump when _build() changes
HERE = os.path.dirname(os.path.abspath(__file__))


def packages() -> List[str]:
    """Names listed in packages.txt."""
    with open(os.path.join(HERE, "packages.txt")) as fp:
        return [line.strip() for line in fp if line.strip() and not line.startswith("#")]


def _docker(*argv: str, check: bool = True) -> str:
    proc = subprocess.run(("docker",) + argv, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError("docker %s failed: %s" % (" ".join(argv[:2]), proc.stderr.strip()))
    return proc.stdout.strip()


def _recipe(base_tag: str) -> str:
    base_id = _docker("image", "inspect", "--format", "{{.Id}}", base_tag)
    text = "\n".join([base_id, RECIPE_VERSION] + list(PRESENT) + packages())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _current_recipe() -> str:
    return _docker("image", "inspect", "--format", '{{index .Config.Labels "%s"}}' % LABEL, TAG, check=False)


def _build(base_tag: str, recipe: str, log) -> None:
    name = "mitogen-debops-build-%s" % uuid.uuid4().hex[:8]
    script = (
        "set -e; export DEBIAN_FRONTEND=noninteractive; "
        # dpkg's fsync()s cost minutes on overlayfs and measure the disk, not
        # Ansible; containers do not survive a crash anyway.
        "echo force-unsafe-io > /etc/dpkg/dpkg.cfg.d/mitogen-debops-unsafe-io; "
        "apt-get update -q; "
        "apt-get install -y -q --no-install-recommends %s; "
        "apt-get install -y -q --download-only --no-install-recommends %s"
    ) % (" ".join(PRESENT), " ".join(packages()))
    _docker("run", "-d", "--network", "host", "--name", name, base_tag, "sleep", "infinity")
    try:
        log("debops image: installing %s, downloading %d packages" % (PRESENT, len(packages())))
        proc = subprocess.run(["docker", "exec", name, "sh", "-c", script], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError("building %s failed:\n%s\n%s" % (TAG, proc.stdout[-3000:], proc.stderr[-3000:]))
        _docker("commit", "--change", "LABEL %s=%s" % (LABEL, recipe), "--change", 'CMD ["/bin/bash"]', name, TAG)
    finally:
        _docker("rm", "-f", name, check=False)


def ensure(log=print) -> str:
    """Tag of the derived image, built if missing or stale."""
    base_tag = base_image.ensure("bookworm", log=log)
    with cache.locked("debops-image"):
        recipe = _recipe(base_tag)
        if _current_recipe() != recipe:
            _build(base_tag, recipe, log)
    return TAG


class DebopsTestbed(bed.Testbed):
    """A Testbed whose targets run the derived image instead of the plain one."""

    __test__ = False

    def _start(self, tag: str, indices: range) -> None:
        super()._start(ensure(), indices)


def up(n: int = 1, **kwargs) -> DebopsTestbed:
    """Start n DebOps-ready targets (see tests.testbed.Testbed.up)."""
    ensure()
    return DebopsTestbed.up(n=n, distro="bookworm", **kwargs)

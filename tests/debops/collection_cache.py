"""Ansible collections DebOps needs, taken from the community `ansible` wheel.

Runs on the controller, called by the DebOps/molecule fixtures and by
bench/bench_debops.py.  There is no Galaxy access here, so the wheel of the
community package matching our ansible-core (ansible 12.x for core 2.19) is
fetched once with pip and only the collections DebOps imports are unpacked
into a cache directory that ANSIBLE_COLLECTIONS_PATH then points at.
"""
import glob
import os
import subprocess
import sys
import zipfile

from tests.testbed import cache

WHEEL_SPEC = "ansible>=12,<13"
# debops.debops' galaxy.yml dependencies that exist in the wheel, plus what
# community.docker (molecule's connection) imports.
NEEDED = (
    "ansible/posix", "ansible/utils", "community/crypto", "community/docker",
    "community/general", "community/libvirt", "community/mysql",
    "community/postgresql", "community/rabbitmq",
    "community/library_inventory_filtering_v1",
)


def _wheel(workdir: str) -> str:
    found = sorted(glob.glob(os.path.join(workdir, "ansible-12.*.whl")))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL_SPEC, "-d", workdir],
            check=True,
        )
        found = sorted(glob.glob(os.path.join(workdir, "ansible-12.*.whl")))
    return found[-1]


def _unpack(wheel: str, dest: str) -> None:
    prefixes = tuple("ansible_collections/%s/" % name for name in NEEDED)
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.startswith(prefixes)]
        archive.extractall(dest, members)


def collections_path() -> str:
    """Directory to put on ANSIBLE_COLLECTIONS_PATH; unpacked once per machine."""
    workdir = os.path.join(cache.cache_dir(), "collections")
    os.makedirs(workdir, exist_ok=True)
    with cache.locked("collections"):
        wheel = _wheel(workdir)
        stamp = os.path.join(workdir, "unpacked-" + os.path.basename(wheel) + "-%d" % len(NEEDED))
        dest = os.path.join(workdir, "tree")
        if not os.path.exists(stamp):
            subprocess.run(["rm", "-rf", dest], check=True)
            _unpack(wheel, dest)
            open(stamp, "w").close()
    return dest


def debops_collections_path() -> str:
    """Where the `debops` PyPI package keeps its debops.debops collection."""
    import debops

    return os.path.join(os.path.dirname(debops.__file__), "_data", "ansible", "collections")


if __name__ == "__main__":
    print(os.pathsep.join((collections_path(), debops_collections_path())))

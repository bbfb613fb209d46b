"""Bootstrap into real Debian targets (test-bed images) over `docker exec`/`docker run -i`.

Proves the boot works with other Python versions (bullseye 3.9, bookworm
3.11, trixie 3.13) and on a read-only filesystem.  Marked `testbed`.
"""
import subprocess

import pytest

import mitogen.core
from tests.mitogen import funcs

pytestmark = pytest.mark.testbed


def _docker_ok():
    try:
        return subprocess.run(['docker', 'info'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _image(distro):
    if not _docker_ok():
        pytest.skip('docker is not usable')
    from tests.testbed import image
    return image.ensure(distro, log=lambda *a: None)


def test_boot_in_running_target(router, target):
    ctx = router.local(python_path=['docker', 'exec', '-i', target.container, 'python3'], name='in-target')
    assert ctx.call(funcs.python_version) >= (3, 8)
    assert ctx.call(funcs.argv0).startswith('python(mitogen:')
    # tests.mitogen.funcs does not exist in the container: it was forwarded.
    assert ctx.call(funcs.try_import, 'tests') is True
    assert ctx.call(funcs.add, 1, 2) == 3


@pytest.mark.parametrize('distro,version', [('bullseye', (3, 9)), ('bookworm', (3, 11)), ('trixie', (3, 13))])
def test_boot_on_read_only_filesystem(router, distro, version):
    tag = _image(distro)
    argv = ['docker', 'run', '--rm', '-i', '--read-only', '--network', 'none', tag, 'python3']
    ctx = router.local(python_path=argv, name='ro-' + distro, connect_timeout=60)
    assert tuple(ctx.call(funcs.python_version)[:2]) == version
    assert ctx.call(funcs.add, 2, 3) == 5
    with pytest.raises(mitogen.core.CallError):
        ctx.call(funcs.append_to, '/etc/should-not-write', 'x')   # really read-only
    via = router.local(via=ctx, python_path=['python3'], name='ro-grandchild-' + distro)
    assert via.call(funcs.get_ids)[1] == ctx.context_id

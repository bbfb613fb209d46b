"""The oldest supported target interpreter, Python 3.8, as a local child.

No Debian image ships 3.8, but this machine kind has pyenv builds under
/root/.pyenv; the test is skipped where that interpreter does not exist.
Runs on the controller; the children are real 3.8 processes.
"""
import glob
import os
import platform

import pytest

import mitogen.service

from tests.mitogen import funcs

PY38 = sorted(glob.glob('/root/.pyenv/versions/3.8*/bin/python3.8'))

pytestmark = pytest.mark.skipif(not PY38, reason='no Python 3.8 interpreter on this machine')


@pytest.fixture
def child38(router):
    return router.local(python_path=PY38[-1])


def test_boot_call_and_exceptions(child38):
    assert child38.call(platform.python_version).startswith('3.8.')
    assert child38.call(funcs.add, 2, 3) == 5
    with pytest.raises(mitogen.core.CallError) as info:
        child38.call(funcs.raise_value_error, 'from 3.8')
    assert 'ValueError' in str(info.value) and 'from 3.8' in str(info.value)


def test_grandchild_and_file_transfer(router, child38, tmp_path):
    grandchild = router.local(via=child38, python_path=PY38[-1])
    assert grandchild.call(platform.python_version).startswith('3.8.')
    src = tmp_path / 'payload.bin'
    src.write_bytes(os.urandom(300 * 1024))
    service = mitogen.service.FileService(router)
    service.register(str(src))
    pool = mitogen.service.Pool(router, services=[service], size=1)
    dest = tmp_path / 'copy.bin'
    grandchild.call(mitogen.service.FileService.get_to_path, router.myself(), str(src), str(dest))
    assert dest.read_bytes() == src.read_bytes()
    pool.stop()

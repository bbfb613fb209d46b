"""A child started with a virtualenv's interpreter lives in that virtualenv.

The boot re-executes the interpreter under a descriptive argv[0], from
which CPython alone cannot find pyvenv.cfg; the child must still report the
virtualenv's prefix, executable and site-packages, as Ansible modules run
with `ansible_python_interpreter: /path/to/venv/bin/python` rely on it.
Runs on the controller against real local children.
"""
import os
import subprocess
import sys

from tests.mitogen import funcs


def test_child_keeps_the_virtualenv(router, tmp_path):
    venv = tmp_path / 'venv'
    subprocess.check_call([sys.executable, '-m', 'venv', '--without-pip', str(venv)])
    python = str(venv / 'bin' / 'python3')
    child = router.local(python_path=python)
    assert child.call(funcs.module_attr, 'sys', 'prefix') == str(venv)
    assert child.call(funcs.module_attr, 'sys', 'executable') == python
    site_packages = [p for p in child.call(funcs.module_attr, 'sys', 'path') if p.startswith(str(venv))]
    assert site_packages and all(os.path.isdir(p) for p in site_packages)
    # The descriptive process name is unchanged.
    assert child.call(funcs.argv0).startswith('python(mitogen:')

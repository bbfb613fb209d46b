"""Import forwarding: packages only on the controller, preloading, caches, blacklist."""
import importlib
import sys
import textwrap

import pytest

import mitogen.core
from tests.mitogen import funcs


@pytest.fixture
def temp_package(tmp_path, request):
    """Create package `<name>` (5 submodules, one subpackage) importable only here."""
    name = 'mtpkg_%s' % (request.node.name.replace('[', '_').replace(']', '_').replace('-', '_'),)
    root = tmp_path / name
    (root / 'sub').mkdir(parents=True)
    (root / '__init__.py').write_text('from . import m0, m1, m2, m3, m4\nfrom .sub import deep\n')
    for i in range(5):
        (root / ('m%d.py' % i)).write_text('import json\nVALUE = %d\n' % i)
    (root / 'sub' / '__init__.py').write_text('')
    (root / 'lazy.py').write_text('LAZY = 1\n')
    (root / 'sub' / 'deep.py').write_text(textwrap.dedent('''
        from .. import m4
        def total():
            return m4.VALUE + 100
    '''))
    sys.path.insert(0, str(tmp_path))
    pkg = importlib.import_module(name)
    yield name, pkg
    sys.path.remove(str(tmp_path))
    for mod in [m for m in sys.modules if m == name or m.startswith(name + '.')]:
        del sys.modules[mod]


def test_package_only_on_controller(router, temp_package):
    name, pkg = temp_package
    ctx = router.local()
    assert ctx.call(funcs.try_import, name + '_missing') is False
    assert ctx.call(pkg.sub.deep.total) == 104


def test_preloading_needs_one_round_trip(router, temp_package):
    name, pkg = temp_package
    ctx = router.local()
    before = ctx.call(funcs.importer_requests)
    assert ctx.call(funcs.import_module, name) == name
    # The whole package (7 modules) arrives for a single GET_MODULE.
    assert ctx.call(funcs.importer_requests) - before == 1
    assert ctx.call(pkg.sub.deep.total) == 104
    assert ctx.call(funcs.importer_requests) - before == 1


def test_stdlib_not_forwarded(router):
    ctx = router.local()
    before = ctx.call(funcs.importer_requests)
    assert ctx.call(funcs.import_module, 'json.decoder') == 'json.decoder'
    assert ctx.call(funcs.importer_requests) == before
    assert router.responder._build('json')[3] is None


@pytest.mark.parametrize('name', ['_winapi', 'msvcrt', 'nt', 'org'])
def test_other_platforms_stdlib_never_asked_for(router, name):
    """The stdlib's probes for Windows/Jython names (mimetypes, subprocess,
    copy...) fail at once: the parent never serves stdlib names."""
    ctx = router.local()
    before = ctx.call(funcs.importer_requests)
    assert ctx.call(funcs.try_import, name) is False
    assert ctx.call(funcs.importer_requests) == before


def test_intermediary_serves_from_cache(router, temp_package):
    name, pkg = temp_package
    a = router.local()
    b = router.local(via=a)
    assert b.call(pkg.sub.deep.total) == 104
    count = router.responder.get_module_count
    c = router.local(via=a)
    assert c.call(pkg.sub.deep.total) == 104
    assert a.call(pkg.sub.deep.total) == 104
    # Neither c (served by a) nor a (already cached) asked the master again.
    assert router.responder.get_module_count == count


def test_negative_answers_cached(router):
    ctx = router.local()
    before = ctx.call(funcs.importer_requests)
    assert ctx.call(funcs.try_import, 'definitely_not_a_module_xyz') is False
    assert ctx.call(funcs.try_import, 'definitely_not_a_module_xyz') is False
    assert ctx.call(funcs.importer_requests) - before == 1


def test_blacklist(router, temp_package):
    name, pkg = temp_package
    router.responder.blacklist_prefix(name)
    ctx = router.local()
    with pytest.raises(mitogen.core.CallError) as info:
        ctx.call(pkg.sub.deep.total)
    assert 'ModuleNotFoundError' in str(info.value) or 'ImportError' in str(info.value)


def test_each_module_sent_once_per_stream(router, temp_package):
    name, pkg = temp_package
    ctx = router.local()
    ctx.call(funcs.noop)
    ctx.call(pkg.sub.deep.total)
    sent = router.responder.good_load_module_count
    ctx.call(funcs.import_module, name + '.m3')
    ctx.call(pkg.m0.__name__.__class__)  # unrelated builtin call
    assert router.responder.good_load_module_count == sent


def test_fork_of_child_imports_lazy_submodule(router, temp_package):
    name, pkg = temp_package
    importlib.import_module(name + '.lazy')
    ctx = router.local()
    assert ctx.call(funcs.import_module, name) == name
    forked = router.fork(via=ctx)
    assert forked.call(funcs.get_ppid) == ctx.call(funcs.get_pid)
    assert forked.call(funcs.import_module, name + '.lazy') == name + '.lazy'


def test_prefer_parent_overrides_local_copy(router, tmp_path, monkeypatch):
    # A package both "installed on the target" (child's cwd) and on the controller.
    target_dir = tmp_path / 'target'
    ctrl_dir = tmp_path / 'ctrl'
    for d, value in ((target_dir, 'target'), (ctrl_dir, 'controller')):
        (d / 'mtdual').mkdir(parents=True)
        (d / 'mtdual' / '__init__.py').write_text('WHERE = %r\n' % value)
    sys.path.insert(0, str(ctrl_dir))
    monkeypatch.chdir(str(target_dir))
    try:
        importlib.import_module('mtdual')
        plain = router.local()
        assert plain.call(funcs.import_module, 'mtdual') == 'mtdual'
        assert plain.call(funcs.module_attr, 'mtdual', 'WHERE') == 'target'
        router.prefer_parent = ['mtdual']
        preferred = router.local()
        grandchild = router.local(via=preferred)
        assert preferred.call(funcs.module_attr, 'mtdual', 'WHERE') == 'controller'
        assert grandchild.call(funcs.module_attr, 'mtdual', 'WHERE') == 'controller'
    finally:
        sys.path.remove(str(ctrl_dir))
        sys.modules.pop('mtdual', None)

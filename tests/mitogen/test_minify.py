"""Minified forwarded code: same line numbers, same code, cached across runs.

Controller-side unit tests of mitogen.minify (blank_source, cached), plus
one real child: a forwarded module of a package sent minified raises from
the line it raises from in the file.
"""
import ast
import os
import subprocess
import sys
import textwrap
import time
import traceback

import pytest

import mitogen.core
import mitogen.minify
from mitogen.minify import blank_source

SAMPLE = textwrap.dedent('''\
    # -*- coding: utf-8 -*-
    """Module docstring
    over three lines.
    """
    import os  # trailing comment

    DOCUMENTATION = r\'\'\'
    short_description: kept unless asked
    \'\'\'


    class Plain(Exception):
        """Only a docstring."""


    def f(a, b=1):
        \'\'\'Doc.\'\'\'
        # a comment line
        x = [a,
                 b]  # continuation
        f"{a}"  # an f-string statement may call __format__: kept
        text = """
            indented string content
        """
        return x, text, __doc__


    def boom():
        "one"  "two"
        raise ValueError('boom at line 30')
    ''')


def _code(text, doc_vars=()):
    """AST dump, string statements (and the values of top-level `doc_vars`)
    read as blank_source leaves them: ''."""
    tree = ast.parse(text)
    strings = [node.value for node in ast.walk(tree) if isinstance(node, ast.Expr)]
    strings += [node.value for node in tree.body if isinstance(node, ast.Assign)
                and getattr(node.targets[0], 'id', None) in doc_vars]
    for node in strings:
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            node.value, node.kind = '', None
    return ast.dump(tree)


def test_lines_code_and_docstrings():
    out = blank_source(SAMPLE.encode()).decode()
    assert out.count('\n') == SAMPLE.count('\n')
    assert _code(out) == _code(SAMPLE)
    assert 'docstring' not in out and 'comment' not in out and '"""Only' not in out
    assert out.startswith('# -*- coding: utf-8 -*-\n')  # the coding cookie stays
    assert 'f"{a}"' in out and 'indented string content' in out and 'kept unless asked' in out
    content = '\n        indented string content\n    """\n'
    assert content in SAMPLE and content in out  # the text of a string stays
    namespace = {}
    exec(compile(out, 'sample.py', 'exec'), namespace)
    assert namespace['__doc__'] == '' and namespace['Plain'].__doc__ == '' and namespace['f'].__doc__ == ''
    assert namespace['f'](1) == ([1, 1], '\n        indented string content\n    ', '')
    for lineno, line in enumerate(SAMPLE.splitlines(), 1):
        if line.strip().startswith(('x = ', 'return ', 'raise ', 'class ', 'def ')):
            assert out.splitlines()[lineno - 1].strip() == line.strip().split('  #')[0], lineno


def test_traceback_points_at_the_same_line():
    out = blank_source(SAMPLE.encode())
    namespace = {}
    exec(compile(out, 'sample.py', 'exec'), namespace)
    with pytest.raises(ValueError) as info:
        namespace['boom']()
    assert info.value.__traceback__.tb_next.tb_lineno == 30
    assert SAMPLE.splitlines()[29].strip() == "raise ValueError('boom at line 30')"


def test_doc_vars_only_when_asked():
    out = blank_source(SAMPLE.encode(), docstrings=False, doc_vars=('DOCUMENTATION',)).decode()
    assert 'kept unless asked' not in out and "DOCUMENTATION = ''" in out
    assert 'Module docstring' in out and '"""Only a docstring."""' in out  # docstrings kept
    assert 'comment' not in out and out.count('\n') == SAMPLE.count('\n')
    assert _code(out, ('DOCUMENTATION',)) == _code(SAMPLE, ('DOCUMENTATION',))


def test_changed_code_is_refused(monkeypatch):
    """A reindent that moved a statement into another block would parse:
    the token check sends the source as it is instead."""
    source = b'if x:\n    y = 1\nz = 2\n'
    monkeypatch.setattr(mitogen.minify, '_reindent', lambda text: text.replace('\nz', '\n    z'))
    assert blank_source(source) is source


@pytest.mark.parametrize('source', [
    b'x = 1\n\xff\n',                      # not UTF-8
    b'def f(:\n',                           # not Python
    b'x = "unterminated\n',                  # not even tokens
])
def test_unparseable_source_travels_as_is(source):
    assert blank_source(source) is source


def test_our_own_packages_minify(tmp_path):
    """Every module we forward stays the same code, line for line."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for package in ('mitogen', 'ansible_mitogen'):
        for folder, _, names in os.walk(os.path.join(root, package)):
            for name in sorted(n for n in names if n.endswith('.py')):
                path = os.path.join(folder, name)
                with open(path, 'rb') as fp:
                    source = fp.read()
                out = blank_source(source)
                assert out is not source and len(out) < len(source), path
                assert out.count(b'\n') == source.count(b'\n'), path
                assert _code(out.decode()) == _code(source.decode()), path


def test_minimized_core_boots_on_python38():
    """mitogen.core as the bootstrap sends it compiles under the oldest target."""
    py38 = sorted(p for p in (os.path.expanduser('~/.pyenv/versions/%s/bin/python3.8' % v)
                              for v in os.listdir(os.path.expanduser('~/.pyenv/versions'))
                              if v.startswith('3.8'))) if os.path.isdir(os.path.expanduser('~/.pyenv/versions')) else []
    if not py38:
        pytest.skip('no Python 3.8 interpreter on this machine')
    with open(mitogen.core.__file__.replace('.pyc', '.py'), 'rb') as fp:
        core = mitogen.minify.minimize_source(fp.read().decode())
    subprocess.run([py38[-1], '-c', 'import sys; compile(sys.stdin.read(), "core", "exec")'],
                   input=core, text=True, check=True)
    ast.parse(core)


def test_cache_survives_the_process(tmp_path, monkeypatch):
    monkeypatch.setenv('MITOGEN_MINIFY_CACHE', str(tmp_path))
    calls = []

    def compute(data):
        calls.append(data)
        return data.upper()

    assert mitogen.minify.cached(b'test', b'abc', compute) == b'ABC'
    mitogen.minify._memory.clear()  # as in the next run's process
    assert mitogen.minify.cached(b'test', b'abc', compute) == b'ABC'
    assert calls == [b'abc']
    stored = [os.path.join(d, f) for d, _, files in os.walk(tmp_path) for f in files
              if not f.endswith('.lock') and f != mitogen.minify.PRUNE_STAMP]
    assert len(stored) == 1 and open(stored[0], 'rb').read() == b'ABC'
    assert not [f for _, _, files in os.walk(tmp_path) for f in files if f.startswith('.tmp-')]


def test_cache_off_or_unwritable(tmp_path, monkeypatch):
    monkeypatch.setenv('MITOGEN_MINIFY_CACHE', '')
    assert mitogen.minify.cached(b'test-off', b'x', lambda d: d * 2) == b'xx'
    blocked = tmp_path / 'file'
    blocked.write_text('')
    monkeypatch.setenv('MITOGEN_MINIFY_CACHE', str(blocked / 'below-a-file'))
    assert mitogen.minify.cached(b'test-blocked', b'y', lambda d: d * 2) == b'yy'


def _entry(directory, name, age, size=10):
    sub = directory / name[:2]
    sub.mkdir(exist_ok=True)
    path = sub / name
    path.write_bytes(b'x' * size)
    when = time.time() - age
    os.utime(path, (when, when))
    return path


@pytest.fixture
def prune_once(monkeypatch):
    """As in a new process: the prune not yet checked, nothing in memory."""
    monkeypatch.setattr(mitogen.minify, '_prune_checked', False)
    mitogen.minify._memory.clear()


def test_cache_pruned_by_age_and_size_once_per_process(tmp_path, monkeypatch, prune_once):
    monkeypatch.setenv('MITOGEN_MINIFY_CACHE', str(tmp_path))
    day = 86400
    stale = _entry(tmp_path, 'aa' + '0' * 38, 40 * day)
    stale_lock = tmp_path / 'aa' / (stale.name + '.lock')
    stale_lock.write_text('')
    os.utime(stale_lock, (time.time() - 2 * day,) * 2)
    (tmp_path / 'ab').mkdir()
    torn = tmp_path / 'ab' / '.tmp-crashed'
    torn.write_bytes(b'half')
    os.utime(torn, (time.time() - 2 * day,) * 2)
    writing = tmp_path / 'ab' / '.tmp-writing'  # another process's write in progress
    writing.write_bytes(b'')
    monkeypatch.setattr(mitogen.minify, 'MAX_BYTES', 25)
    recent, older, oldest = (_entry(tmp_path, 'b%d' % i + '2' * 38, age * day) for i, age in enumerate((1, 2, 3)))

    assert mitogen.minify.cached(b'test-prune', b'new', lambda d: d * 2) == b'newnew'  # a store: prunes
    assert not stale.exists() and not stale_lock.exists() and not torn.exists()
    assert writing.exists()
    # the 6 bytes just stored and `recent` fit in 25 bytes; the least recently used go
    assert recent.exists() and not older.exists() and not oldest.exists()
    assert (tmp_path / mitogen.minify.PRUNE_STAMP).exists()

    again = _entry(tmp_path, 'cc' + '3' * 38, 40 * day)
    mitogen.minify.cached(b'test-prune', b'other', lambda d: d)
    assert again.exists()  # once per process


def test_cache_prune_skipped_when_recent_or_busy(tmp_path, monkeypatch, prune_once):
    import fcntl

    monkeypatch.setenv('MITOGEN_MINIFY_CACHE', str(tmp_path))
    stale = _entry(tmp_path, 'dd' + '4' * 38, 40 * 86400)
    stamp = tmp_path / mitogen.minify.PRUNE_STAMP
    stamp.write_text('')  # another process pruned just now
    mitogen.minify.cached(b'test-prune', b'a', lambda d: d)
    assert stale.exists()

    monkeypatch.setattr(mitogen.minify, '_prune_checked', False)
    os.utime(stamp, (time.time() - 2 * 86400,) * 2)
    with open(stamp) as held:  # another process is pruning
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        mitogen.minify.cached(b'test-prune', b'b', lambda d: d)
    assert stale.exists()


def test_cache_hit_keeps_an_entry_in_use(tmp_path, monkeypatch, prune_once):
    monkeypatch.setenv('MITOGEN_MINIFY_CACHE', str(tmp_path))
    assert mitogen.minify.cached(b'test-use', b'abc', bytes.upper) == b'ABC'
    [stored] = [p for p in tmp_path.glob('*/*') if not p.name.endswith('.lock')]
    old = time.time() - 40 * 86400
    os.utime(stored, (old, old))
    mitogen.minify._memory.clear()
    assert mitogen.minify.cached(b'test-use', b'abc', lambda d: b'recomputed') == b'ABC'
    assert time.time() - stored.stat().st_mtime < 60
    mitogen.minify.prune(str(tmp_path))
    assert stored.exists()


def test_forwarded_minified_module_raises_from_its_line(router, tmp_path):
    name = 'mtminify_pkg'
    (tmp_path / name).mkdir()
    (tmp_path / name / '__init__.py').write_text('')
    (tmp_path / name / 'mod.py').write_text(textwrap.dedent('''\
        """A docstring
        of three
        lines."""
        # a comment


        def explode():
            """Raises."""
            # more comment
            raise KeyError('line 10')
        '''))
    sys.path.insert(0, str(tmp_path))
    try:
        import mtminify_pkg.mod
        router.responder.minify_prefixes.append(name)
        ctx = router.local()
        with pytest.raises(mitogen.core.CallError) as info:
            ctx.call(mtminify_pkg.mod.explode)
        tb = info.value.remote_tb
        assert 'mtminify_pkg/mod.py", line 10, in explode' in tb, tb
        assert "raise KeyError('line 10')" in tb
        traceback.clear_frames(info.tb)
    finally:
        sys.path.remove(str(tmp_path))
        for mod in [m for m in sys.modules if m.startswith(name)]:
            del sys.modules[mod]

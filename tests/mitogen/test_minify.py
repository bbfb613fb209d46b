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
        for name in sorted(os.listdir(os.path.join(root, package))):
            if name.endswith('.py'):
                with open(os.path.join(root, package, name), 'rb') as fp:
                    source = fp.read()
                out = blank_source(source)
                assert out is not source and len(out) < len(source), name
                assert out.count(b'\n') == source.count(b'\n'), name
                assert _code(out.decode()) == _code(source.decode()), name


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
    stored = [os.path.join(d, f) for d, _, files in os.walk(tmp_path) for f in files if not f.endswith('.lock')]
    assert len(stored) == 1 and open(stored[0], 'rb').read() == b'ABC'
    assert not [f for _, _, files in os.walk(tmp_path) for f in files if f.startswith('.tmp-')]


def test_cache_off_or_unwritable(tmp_path, monkeypatch):
    monkeypatch.setenv('MITOGEN_MINIFY_CACHE', '')
    assert mitogen.minify.cached(b'test-off', b'x', lambda d: d * 2) == b'xx'
    blocked = tmp_path / 'file'
    blocked.write_text('')
    monkeypatch.setenv('MITOGEN_MINIFY_CACHE', str(blocked / 'below-a-file'))
    assert mitogen.minify.cached(b'test-blocked', b'y', lambda d: d * 2) == b'yy'


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

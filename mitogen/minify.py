"""Boot-size reducers for Python source sent to children.

Runs on the controller (or an intermediary that has the source), never in a
target: mitogen.parent strips mitogen/core.py before compressing it for the
bootstrap (``minimize_source``); the import forwarder and ansible_mitogen's
module bundles blank docstrings and comments of the sources they send
(``blank_source``, line numbers kept so tracebacks point at the same lines),
through a cache (``blanked``) so that only the first run on a controller pays
for tokenizing (and ansible_mitogen's compression of a bundle).  Output must stay runnable on Python 3.8, so only syntax
present in the input is emitted.
"""
import ast
import fcntl
import hashlib
import io
import os
import re
import tempfile
import threading
import tokenize
from typing import Callable, Dict, Optional


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                body.pop(0)
                if not body:
                    body.append(ast.Pass())
    return tree


def minimize_source(source: str) -> str:
    """Return source without docstrings, comments or blank lines, indented
    by one space per level.

    An intermediary on Python 3.8 has no ast.unparse: it sends the source
    unchanged (only larger), rather than failing to start children.
    """
    if not hasattr(ast, 'unparse'):
        return source
    out = ast.unparse(_strip_docstrings(ast.parse(source)))
    return _reindent(out) or out


def minimized(source: bytes) -> bytes:
    """``minimize_source`` of UTF-8 `source`, cached (see ``cached``)."""
    return cached(b'minimize' + BLANK_VERSION, source, lambda data: minimize_source(data.decode('utf-8')).encode('utf-8'))


# Tokens after which a token begins a statement.
_STATEMENT_START = (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, None)
_CODING_RE = re.compile(r'^[ \t\f]*#.*?coding[:=]')


def _is_plain_string(token: tokenize.TokenInfo) -> bool:
    """A literal whose evaluation has no effect (f-strings may call __format__)."""
    return token.type == tokenize.STRING and 'f' not in token.string[:3].lower().split('"')[0].split("'")[0]


def blank_source(source: bytes) -> bytes:
    """`source` with comments dropped and each string-only statement
    (docstrings included) replaced by ``''`` followed by as many empty lines
    as it spanned: every remaining token keeps its line number, ``__doc__``
    stays a (blank) string, and no code is removed.  Indentation shrinks to
    one space per level.  Returns `source` itself when it is not UTF-8
    Python this interpreter can parse, or when the result's syntax tree is
    not the input's with those statements blanked."""
    try:
        text = source.decode('utf-8')
        lines = io.StringIO(text).readlines()
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (UnicodeDecodeError, tokenize.TokenError, SyntaxError, ValueError):
        return source
    edits = []  # (start row, start col, end row, end col, replacement); rows 1-based
    prev_type = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == tokenize.COMMENT:
            if not (tok.start[0] <= 2 and _CODING_RE.match(tok.string)) and not tok.string.startswith('#!'):
                edits.append((tok.start[0], tok.start[1], tok.end[0], tok.end[1], ''))
        elif prev_type in _STATEMENT_START and _is_plain_string(tok):
            j = i
            while j + 1 < len(tokens) and _is_plain_string(tokens[j + 1]):
                j += 1
            after = tokens[j + 1].type if j + 1 < len(tokens) else None
            if after == tokenize.COMMENT and j + 2 < len(tokens):
                after = tokens[j + 2].type
            if after in (tokenize.NEWLINE, tokenize.ENDMARKER):
                edits.append((tok.start[0], tok.start[1], tokens[j].end[0], tokens[j].end[1], _BLANK))
                i = j
        if tok.type not in (tokenize.COMMENT, tokenize.NL) or prev_type is None:
            prev_type = tok.type
        i += 1
    for srow, scol, erow, ecol, new in reversed(edits):
        head, tail = lines[srow - 1][:scol], lines[erow - 1][ecol:]
        if not new:
            head = head.rstrip(' \t')
        lines[srow - 1] = head + new + tail if (head.strip() or new or tail.strip()) else tail.lstrip(' \t')
        for row in range(srow, erow):
            lines[row] = '\n'
    out = _reindent(''.join(lines))
    if out is None or out.count('\n') != text.count('\n') or _shape(out) != _shape(text):
        return source
    return out.encode('utf-8')


def _reindent(text: str) -> Optional[str]:
    """`text` with one space per indentation level and no leading blanks
    on continuation lines; lines that start inside a string stay as they are."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    lines = io.StringIO(text).readlines()
    inside = set()
    first = {}  # row -> indentation depth of the row's first token
    depth = 0
    for tok in tokens:
        if tok.type == tokenize.INDENT:
            depth += 1
        elif tok.type == tokenize.DEDENT:
            depth -= 1
        elif tok.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            first.setdefault(tok.start[0], depth)
            inside.update(range(tok.start[0] + 1, tok.end[0] + 1))
    for row, level in first.items():
        if row not in inside and row <= len(lines):
            lines[row - 1] = ' ' * level + lines[row - 1].lstrip(' \t\f')
    return ''.join(lines)


def _shape(text: str) -> Optional[str]:
    """The code of `text` as an AST dump, string-only statements read as
    ``''``: equal for the input and output of blank_source."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, (str, bytes))):
            node.value.value = ''
            node.value.kind = None
    return ast.dump(tree)


_BLANK = "''"
#: Bump when blank_source's output changes: cached results are keyed by it.
BLANK_VERSION = b'2'
_memory: Dict[str, bytes] = {}
_memory_lock = threading.Lock()


def cache_dir() -> Optional[str]:
    """Where blanked sources persist between runs ($MITOGEN_MINIFY_CACHE, else
    $XDG_CACHE_HOME/mitogen/minify or ~/.cache/mitogen/minify); empty
    $MITOGEN_MINIFY_CACHE turns the disk cache off."""
    path = os.environ.get('MITOGEN_MINIFY_CACHE')
    if path is not None:
        return path or None
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'mitogen', 'minify')


def blanked(source: bytes) -> bytes:
    """``blank_source(source)``, cached (see ``cached``)."""
    return cached(b'blank' + BLANK_VERSION, source, blank_source)


def cached(kind: bytes, data: bytes, compute: Callable[[bytes], bytes]) -> bytes:
    """``compute(data)``, from this process's memory or from the disk cache
    when an earlier run computed it (keyed by `kind` and the digest of
    `data`; written atomically, so concurrent runs never read a torn file)."""
    key = hashlib.sha1(kind + b'\0' + data).hexdigest()
    with _memory_lock:
        out = _memory.get(key)
    if out is not None:
        return out
    directory = cache_dir()
    path = os.path.join(directory, key[:2], key) if directory else None
    out = _load(path) if path is not None else None
    if out is None:
        lock = _lock(path) if path is not None else None
        try:
            # the forks of a first run on a fleet wait for one of them
            out = _load(path) if lock is not None else None
            if out is None:
                out = compute(data)
                if path is not None:
                    _store(path, out)
        finally:
            if lock is not None:
                os.close(lock)
    with _memory_lock:
        _memory[key] = out
    return out


def _load(path: str) -> Optional[bytes]:
    try:
        with open(path, 'rb') as fp:
            return fp.read()
    except OSError:
        return None


def _lock(path: str) -> Optional[int]:
    """An exclusive flock on `path`.lock (closing the fd releases it)."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path + '.lock', os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        return None
    return fd


def _store(path: str, data: bytes) -> None:
    directory = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-')
        try:
            with os.fdopen(fd, 'wb') as fp:
                fp.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only or full disk only costs the next run the CPU

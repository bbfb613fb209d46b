"""Boot-size reducers for Python source sent to children.

Runs on the controller (or an intermediary that has the source), never in a
target: mitogen.parent strips mitogen/core.py before compressing it for the
bootstrap (``minimize_source``); the import forwarder and ansible_mitogen's
module bundles blank docstrings and comments of the sources they send
(``blank_source``, line numbers kept so tracebacks point at the same lines),
through a cache (``blanked``) so that only the first run on a controller pays
for tokenizing (and ansible_mitogen's compression of a bundle); the disk
cache is pruned (``prune``) at most once per process and per PRUNE_EVERY.
Output must stay runnable on Python 3.8, so only syntax present in the
input is emitted.
"""
import ast
import fcntl
import hashlib
import io
import os
import re
import tempfile
import threading
import time
import tokenize
from typing import Callable, Dict, List, Optional, Tuple


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
_STATEMENT_START = (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
_CODING_RE = re.compile(r'^[ \t\f]*#.*?coding[:=]')


def _is_plain_string(token: tokenize.TokenInfo) -> bool:
    """A literal whose evaluation has no effect (f-strings may call __format__)."""
    return token.type == tokenize.STRING and 'f' not in token.string[:3].lower().split('"')[0].split("'")[0]


def blank_source(source: bytes, docstrings: bool = True, doc_vars: Tuple[str, ...] = ()) -> bytes:
    """`source` with comments dropped and each string-only statement
    (docstrings included) replaced by ``''`` followed by as many empty lines
    as it spanned: every remaining token keeps its line number, ``__doc__``
    stays a (blank) string, and no code is removed.  Indentation shrinks to
    one space per level.
    `docstrings` False keeps the string statements; `doc_vars` names
    top-level variables whose string value is blanked too (a caller that
    made sure nothing reads them, e.g. a module's DOCUMENTATION).  Returns
    `source` itself when it is not UTF-8 Python this interpreter can
    tokenize, or when the result's tokens are not the input's but for
    comments, whitespace and those strings."""
    try:
        text = source.decode('utf-8')
        lines = io.StringIO(text).readlines()
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (UnicodeDecodeError, tokenize.TokenError, SyntaxError, ValueError):
        return source
    edits = []  # (start row, start col, end row, end col, replacement); rows 1-based
    prev_type = tokenize.NEWLINE  # of the last token that is not a comment or a blank line
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        run = None
        if tok.type == tokenize.COMMENT:
            if not (tok.start[0] <= 2 and _CODING_RE.match(tok.string)) and not tok.string.startswith('#!'):
                edits.append((tok.start[0], tok.start[1], tok.end[0], tok.end[1], ''))
        elif prev_type in _STATEMENT_START:
            if docstrings:
                run = _string_statement(tokens, i)
            if (run is None and tok.type == tokenize.NAME and tok.string in doc_vars and tok.start[1] == 0
                    and tokens[i + 1].string == '='):
                i += 2
                run = _string_statement(tokens, i)
        if run is not None:
            edits.append((tokens[i].start[0], tokens[i].start[1], tokens[run].end[0], tokens[run].end[1], _BLANK))
            i = run
        if tokens[i].type not in (tokenize.COMMENT, tokenize.NL):
            prev_type = tokens[i].type
        i += 1
    for srow, scol, erow, ecol, new in reversed(edits):
        head, tail = lines[srow - 1][:scol], lines[erow - 1][ecol:]
        if not new:
            head = head.rstrip(' \t')
        lines[srow - 1] = head + new + tail if (head.strip() or new or tail.strip()) else tail.lstrip(' \t')
        for row in range(srow, erow):
            lines[row] = '\n'
    out = _reindent(''.join(lines))
    if out is None or out.count('\n') != text.count('\n') or not _same_code(tokens, out, doc_vars):
        return source
    return out.encode('utf-8')


def _string_statement(tokens: List[tokenize.TokenInfo], i: int) -> Optional[int]:
    """Index of the last of the plain strings starting at `i` when nothing
    but a comment follows them in their statement, else None."""
    if not _is_plain_string(tokens[i]):
        return None
    j = i
    while _is_plain_string(tokens[j + 1]):
        j += 1
    after = tokens[j + 1].type
    if after == tokenize.COMMENT:
        after = tokens[j + 2].type
    return j if after in (tokenize.NEWLINE, tokenize.ENDMARKER) else None


def _reindent(text: str) -> Optional[str]:
    """`text` with one space per indentation level and no trailing blanks;
    the rest of each line (what a traceback quotes), strings and lines
    starting inside one stay as they are."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    starts = [0]
    for line in io.StringIO(text).readlines():
        starts.append(starts[-1] + len(line))
    out = []
    pos = 0  # offset in text up to which `out` holds the result
    depth = 0
    prev = None
    for tok in tokens:
        if tok.type == tokenize.INDENT:
            depth += 1
            continue
        if tok.type == tokenize.DEDENT:
            depth -= 1
            continue
        if tok.type == tokenize.ENDMARKER:
            break
        begin = starts[tok.start[0] - 1] + tok.start[1]
        gap = text[pos:begin]
        if prev is not None and prev.end[0] == tok.start[0]:
            # blanks inside a line stay: a traceback quotes the line as vanilla's does
            out.append('' if tok.type in (tokenize.NEWLINE, tokenize.NL) else gap)
        elif tok.type == tokenize.NL and tok.start[1] == 0 or '\\' in gap:
            out.append(gap)  # a blank line, or a backslash continuation
        else:
            # first token of a row: its statement's indentation (continuation
            # lines inside brackets need none)
            head = gap.rstrip(' \t\f')
            inside = prev is not None and prev.type not in (tokenize.NEWLINE, tokenize.NL)
            out.append(head + ('' if inside or tok.type == tokenize.NL else ' ' * depth))
        out.append(text[begin:starts[tok.end[0] - 1] + tok.end[1]])
        pos = starts[tok.end[0] - 1] + tok.end[1]
        prev = tok
    out.append(text[pos:])
    return ''.join(out)


def _same_code(tokens: List[tokenize.TokenInfo], out: str, doc_vars: Tuple[str, ...]) -> bool:
    """Whether `out` tokenizes to `tokens` but for comments, blank lines,
    whitespace and the strings blank_source may blank: then it parses to
    the same code (tokens, not whitespace, decide the parse)."""
    try:
        theirs = list(tokenize.generate_tokens(io.StringIO(out).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    return (not any(tok.type == tokenize.ERRORTOKEN for tok in tokens)
            and _significant(tokens, doc_vars) == _significant(theirs, doc_vars))


def _significant(tokens: List[tokenize.TokenInfo], doc_vars: Tuple[str, ...]) -> List[Tuple[int, str]]:
    out = []
    prev_type = tokenize.NEWLINE
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type in (tokenize.COMMENT, tokenize.NL):
            i += 1
            continue
        run = None
        if prev_type in _STATEMENT_START:
            run = _string_statement(tokens, i)
            if run is None and tok.type == tokenize.NAME and tok.string in doc_vars and tokens[i + 1].string == '=':
                out += [(tok.type, tok.string), (tokenize.OP, '=')]
                i += 2
                run = _string_statement(tokens, i)
        if run is not None:
            out.append((tokenize.STRING, _BLANK))
            i = run
        elif tokens[i].type in (tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE, tokenize.ENDMARKER):
            out.append((tokens[i].type, ''))
        else:
            out.append((tokens[i].type, tokens[i].string))
        prev_type = tokens[i].type
        i += 1
    return out


_BLANK = "''"
#: Bump when blank_source's output changes: cached results are keyed by it.
BLANK_VERSION = b'5'
_memory: Dict[str, bytes] = {}
_memory_lock = threading.Lock()
#: Disk entries unused this long are removed; beyond MAX_BYTES in all, the
#: least recently used go first.  An entry's mtime is its last use (bumped
#: on a hit at most once per TOUCH_EVERY, so a hit rarely writes).
MAX_AGE = 30 * 86400
MAX_BYTES = 64 << 20
TOUCH_EVERY = 86400
#: How often a controller walks the cache (stamp file PRUNE_STAMP).
PRUNE_EVERY = 86400
PRUNE_STAMP = '.pruned'
#: Temp files of a write and lock files older than this are leftovers.
LEFTOVER_AGE = 3600
_prune_checked = False


def cache_dir() -> Optional[str]:
    """Where blanked sources persist between runs ($MITOGEN_MINIFY_CACHE, else
    $XDG_CACHE_HOME/mitogen/minify or ~/.cache/mitogen/minify); empty
    $MITOGEN_MINIFY_CACHE turns the disk cache off."""
    path = os.environ.get('MITOGEN_MINIFY_CACHE')
    if path is not None:
        return path or None
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'mitogen', 'minify')


def blanked(source: bytes, docstrings: bool = True, doc_vars: Tuple[str, ...] = ()) -> bytes:
    """``blank_source(source, docstrings, doc_vars)``, cached (see ``cached``)."""
    kind = b'blank%d%s:%s' % (docstrings, BLANK_VERSION, ','.join(doc_vars).encode())
    return cached(kind, source, lambda data: blank_source(data, docstrings, doc_vars))


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
                    maybe_prune(directory)
        finally:
            if lock is not None:
                os.close(lock)
    with _memory_lock:
        _memory[key] = out
    return out


def _load(path: str) -> Optional[bytes]:
    try:
        with open(path, 'rb') as fp:
            data = fp.read()
            used = os.fstat(fp.fileno()).st_mtime
    except OSError:
        return None
    if time.time() - used > TOUCH_EVERY:
        try:
            os.utime(path)  # still in use: not pruned for its age
        except OSError:
            pass
    return data


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


def maybe_prune(directory: str) -> None:
    """``prune(directory)`` if no process did it for PRUNE_EVERY.

    Checked once per process, on its first store (a run that only hits
    adds nothing); one process at a time walks, the others go on."""
    global _prune_checked
    if _prune_checked:
        return
    _prune_checked = True
    stamp = os.path.join(directory, PRUNE_STAMP)
    try:
        if time.time() - os.stat(stamp).st_mtime < PRUNE_EVERY:
            return
    except OSError:
        pass
    try:
        fd = os.open(stamp, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        prune(directory)
        os.utime(fd)
    except OSError:
        pass  # another process prunes, or the disk refuses: the next run tries
    finally:
        os.close(fd)


def prune(directory: str, now: Optional[float] = None) -> None:
    """Remove entries unused for MAX_AGE, then the least recently used
    until all take at most MAX_BYTES, and leftovers of crashed writers.

    Safe beside running processes: a reader that loses an entry computes it
    again, a writer renames its new file in after the unlink; a lock file
    is removed only without its entry and when old (at worst two processes
    then compute the same entry once each)."""
    now = time.time() if now is None else now
    entries = []  # (mtime, size, path)
    locks = []
    for sub in _listdir(directory):
        subdir = os.path.join(directory, sub)
        if len(sub) != 2 or not os.path.isdir(subdir):
            continue
        for name in _listdir(subdir):
            path = os.path.join(subdir, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if name.endswith('.lock'):
                locks.append((st.st_mtime, path))
            elif name.startswith('.tmp-'):
                if now - st.st_mtime > LEFTOVER_AGE:
                    _unlink(path)
            else:
                entries.append((st.st_mtime, st.st_size, path))
    entries.sort(reverse=True)  # most recently used first
    total = 0
    kept = set()
    for mtime, size, path in entries:
        total += size
        if now - mtime > MAX_AGE or total > MAX_BYTES:
            _unlink(path)
        else:
            kept.add(path)
    for mtime, path in locks:
        if path[:-len('.lock')] not in kept and now - mtime > LEFTOVER_AGE:
            _unlink(path)


def _listdir(path: str) -> List[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

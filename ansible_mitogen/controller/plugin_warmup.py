"""Plugins a task worker had to load are loaded once more in the strategy process.

Runs on the controller.  ansible-core forks a fresh task worker per task
from the strategy process, so a lookup, filter or test plugin imported by a
worker is gone when it exits and the next worker imports it again (with
DebOps' role lookups that means importing the `debops` package and GitPython
for nearly every task).  Workers report each plugin file they load through a
pipe; before queueing the next task the strategy process imports the same
files, so later workers inherit them.  Only what a worker actually used is
loaded, in the same way the worker loaded it, so a playbook that uses no
plugins pays nothing.
"""
import fcntl
import json
import logging
import os
import sys
from typing import Any, Optional

LOG = logging.getLogger(__name__)

# One report is far below PIPE_BUF, so concurrent workers' writes never mix.
MAX_REPORT = 2048

_owner_pid: Optional[int] = None
_read_fd: Optional[int] = None
_write_fd: Optional[int] = None
_pending = b""


def _report(kind: str, args: Any, kwargs: Any) -> None:
    """Worker side: tell the strategy process what was loaded (never blocks)."""
    if _write_fd is None or os.getpid() == _owner_pid:
        return
    try:
        line = (json.dumps([kind, args, kwargs]) + "\n").encode()
    except (TypeError, ValueError):
        return
    if len(line) <= MAX_REPORT:
        try:
            os.write(_write_fd, line)
        except OSError:  # pipe full: the strategy process is behind, skip
            pass


def _patch_module_loading(loader_class: Any) -> None:
    original = loader_class._load_module_source

    def _load_module_source(self, *args, **kwargs):
        # (name, path) positionally before ansible-core 2.19, by keyword since
        name = kwargs.get("python_module_name", kwargs.get("name", args[0] if args else None))
        cold = name not in sys.modules
        module = original(self, *args, **kwargs)
        if cold:
            _report("module", list(args), kwargs)
        return module

    loader_class._load_module_source = _load_module_source


def _patch_jinja_wrappers(jinja_class: Any) -> None:
    original = getattr(jinja_class, "_ensure_non_collection_wrappers", None)
    if original is None:
        return

    def _ensure_non_collection_wrappers(self, *args, **kwargs):
        cold = not self._cached_non_collection_wrappers
        original(self, *args, **kwargs)
        if cold:
            _report("jinja", [self.type], {})

    jinja_class._ensure_non_collection_wrappers = _ensure_non_collection_wrappers


def install() -> None:
    """Strategy process: open the report pipe and hook the plugin loaders."""
    global _owner_pid, _read_fd, _write_fd
    if _owner_pid is not None:
        return
    from ansible.plugins import loader

    _read_fd, _write_fd = os.pipe()
    for fd in (_read_fd, _write_fd):
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    _owner_pid = os.getpid()
    _patch_module_loading(loader.PluginLoader)
    if hasattr(loader, "Jinja2Loader"):
        _patch_jinja_wrappers(loader.Jinja2Loader)


def _read_reports() -> list:
    global _pending
    chunks = [_pending]
    while True:
        try:
            chunk = os.read(_read_fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    lines = b"".join(chunks).split(b"\n")
    _pending = lines.pop()
    return [json.loads(line) for line in lines if line]


def absorb() -> None:
    """Strategy process: load what workers reported since the last call."""
    if _read_fd is None or os.getpid() != _owner_pid:
        return
    from ansible.plugins import loader

    for kind, args, kwargs in _read_reports():
        try:
            if kind == "module":
                loader.lookup_loader._load_module_source(*args, **kwargs)
            elif kind == "jinja":
                getattr(loader, "%s_loader" % args[0])._ensure_non_collection_wrappers()
        except Exception as exc:  # the worker managed; the next one will too
            LOG.debug("warm-up of %s %r failed: %s", kind, args or kwargs, exc)

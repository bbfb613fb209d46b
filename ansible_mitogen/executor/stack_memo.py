"""Hop stacks this controller process built, reused while their inputs hold.

Runs wherever tasks run on the controller (executor threads and processes,
forked task workers); used by connection.py only.  Building a hop stack
(transport_config) reads some forty settings and then splits ssh
arguments, asks ansible's config for interpreter defaults and names the
controller: about a quarter of a millisecond per task.  An executor thread
runs many tasks of one host whose settings rarely change, so each build
records every value it read (`Recorder`) and the next task of that host
and connection type re-reads just those values: if each is equal (and of
the same type) the stack is reused, else it is built again.  Whatever a
task changes -- `vars:` on the task, become, set_fact, add_host -- shows up
as a different value read; `meta: reset_connection` forgets the host's
stack (`forget`).

A build is kept only when every value it read can be re-read exactly:
a variable still holding a template (its value may depend on anything)
and mitogen_via chains (they read the via hosts' whole variables) are
built every time.  Secrets (passwords, tokens, key data) are kept as a
digest, never as their value.
"""
import hashlib
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

#: reader kind -> function(name) of the current connection.
Readers = Dict[str, Callable[[str], Any]]
#: (reader kind, name, fingerprint of the value read)
Read = Tuple[str, str, Any]


def is_secret(name: str) -> bool:
    """Settings whose value is a credential (kept as a digest only)."""
    return "pass" in name or "token" in name or name == "private_key"


def fingerprint(name: str, value: Any) -> Any:
    """What a read is compared by: the value with its type (22 != "22"),
    or for a secret, its type and a digest of its text."""
    if value is not None and is_secret(name):
        text = str.__str__(value) if isinstance(value, str) else repr(value)  # str(Secret) is a mask
        return type(value), hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()
    return type(value), value


class Recorder:
    """Readers that note each value they return, for one build."""

    def __init__(self, readers: Readers) -> None:
        self.readers = readers
        self.reads: List[Read] = []
        #: False once a value was read that a later re-read cannot vouch for.
        self.reusable = True

    def reader(self, kind: str) -> Callable[[str], Any]:
        read = self.readers[kind]

        def recorded(name: str) -> Any:
            value = read(name)
            self.reads.append((kind, name, fingerprint(name, value)))
            return value
        return recorded

    def spoil(self) -> None:
        """This build read something that cannot be re-read reliably."""
        self.reusable = False


class Entry:
    """One kept build: what it read, what it made, and per-build extras
    (`extra`, e.g. the context cache's key of the stack)."""

    def __init__(self, reads: List[Read], stack: List[Dict[str, Any]], via_depth: int) -> None:
        self.reads = reads
        self.stack = stack
        self.via_depth = via_depth
        self.extra: Dict[str, Any] = {}

    def holds(self, readers: Readers) -> bool:
        """Every value read reads the same now."""
        for kind, name, seen in self.reads:
            if fingerprint(name, readers[kind](name)) != seen:
                return False
        return True


class StackMemo:
    """The last kept build per (connection type, host) in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: Dict[Any, Entry] = {}

    def lookup(self, key: Any, readers: Readers) -> Optional[Entry]:
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry.holds(readers):
            return entry
        return None

    def keep(self, key: Any, recorder: Recorder, stack: List[Dict[str, Any]], via_depth: int) -> Entry:
        entry = Entry(recorder.reads, stack, via_depth)
        with self._lock:
            if recorder.reusable:
                self._entries[key] = entry
            else:
                self._entries.pop(key, None)
        return entry

    def forget(self, host: str) -> None:
        """Drop every build for `host` (meta: reset_connection and friends)."""
        with self._lock:
            for key in [k for k in self._entries if k[1] == host]:
                del self._entries[key]


#: This process's memo.
STACKS = StackMemo()

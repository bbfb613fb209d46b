"""Select: wait on several Receivers/Latches (or nested Selects) at once.

Runs in any context, in user threads.  Sources notify the Select when they
gain an item; the Select keeps one Latch entry per pending item.
"""
import time
from typing import Any, Iterable, Iterator, Optional

import mitogen.core


class Error(mitogen.core.Error):
    pass


class Event(object):
    """What get_event() returns: the source that fired and its item."""

    def __init__(self, source: Any = None, data: Any = None):
        self.source = source
        self.data = data

    def __repr__(self):
        return 'Event(%r, %r)' % (self.source, self.data)


class Select(object):
    """Multiplexes receivers; with oneshot=True a source is removed after one item."""

    notify = None

    def __init__(self, receivers: Iterable[Any] = (), oneshot: bool = True):
        # One latch entry per pending item of any source; see _put().
        self._latch = mitogen.core.Latch()
        self._oneshot = oneshot
        self._receivers = []
        self.add_many(receivers)

    def add_many(self, receivers: Iterable[Any]) -> None:
        for recv in receivers:
            self.add(recv)

    @classmethod
    def all(cls, receivers: Iterable[Any]) -> list:
        """Return the unpickled result of every receiver, raising the first error."""
        with cls(receivers) as select:
            return [msg.unpickle() for msg in select]

    def _put(self, source):
        try:
            self._latch.put(source)
        except mitogen.core.LatchError:
            return
        if self.notify is not None:
            self.notify(self)

    def __bool__(self):
        return bool(self._receivers)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self) -> Iterator[Any]:
        while self._receivers:
            yield self.get()

    def iter(self, timeout: Optional[float] = None) -> Iterator[Any]:
        while self._receivers:
            yield self.get(timeout=timeout)

    def _check_no_loop(self, recv):
        if recv is self:
            raise Error('cannot add a Select to itself')
        for r in self._receivers:
            if r is recv:
                raise Error('receiver already added')
            if isinstance(r, Select):
                r._check_no_loop(recv)

    def add(self, recv: Any) -> None:
        """Add a Receiver, Latch or Select."""
        if isinstance(recv, Select):
            recv._check_no_loop(self)
        self._check_no_loop(recv)
        if recv.notify is not None:
            raise Error('receiver is already in another Select')
        self._receivers.append(recv)
        recv.notify = self._put
        for _ in range(self._pending(recv)):
            self._put(recv)

    def _pending(self, recv):
        if isinstance(recv, Select):
            return recv._latch.size()
        return recv.size()

    def remove(self, recv: Any) -> None:
        """Detach one source; Error if it is not attached to this Select."""
        owned = recv.notify == self._put and any(r is recv for r in self._receivers)
        if not owned:
            raise Error('receiver not in this Select')
        self._receivers = [r for r in self._receivers if r is not recv]
        recv.notify = None

    def close(self) -> None:
        """Detach all sources (they stay usable on their own)."""
        for recv in self._receivers[:]:
            self.remove(recv)
        self._latch.close()

    def size(self) -> int:
        return self._latch.size()

    def empty(self) -> bool:
        return self._latch.empty()

    def get(self, timeout: Optional[float] = None, block: bool = True) -> Any:
        """Return the next item (a Message for receivers) from any source."""
        return self.get_event(timeout, block).data

    def get_event(self, timeout: Optional[float] = None, block: bool = True) -> Event:
        """Wait for the next item of any source; returns Event(source, data)."""
        if not self._receivers:
            raise Error('Select has no receivers')
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            source = self._latch.get(timeout=remaining, block=block)
            event = self._take_one(source)
            if event is not None:
                break
        if self._oneshot and source in self._receivers:
            self.remove(source)
        return event

    @staticmethod
    def _take_one(source) -> Optional[Event]:
        # The latch entry only says "source had an item": another thread may
        # have consumed it directly from the source since, hence None.
        try:
            if isinstance(source, Select):
                return source.get_event(block=False)
            return Event(source, source.get(block=False))
        except mitogen.core.TimeoutError:
            return None

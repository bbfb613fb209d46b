"""Select: wait on several Receivers/Latches (or nested Selects) at once.

Runs in any context, in user threads.  Sources notify the Select when they
gain an item; the Select keeps one Latch entry per pending item.
"""
from typing import Any, Iterable, Iterator, Optional

import mitogen.core


class Error(mitogen.core.Error):
    pass


class Event(object):
    """What get_event() returns: the source that fired and its item."""

    source = None
    data = None

    def __repr__(self):
        return 'Event(%r, %r)' % (self.source, self.data)


class Select(object):
    """Multiplexes receivers; with oneshot=True a source is removed after one item."""

    notify = None

    def __init__(self, receivers: Iterable[Any] = (), oneshot: bool = True):
        self._receivers = []
        self._oneshot = oneshot
        self._latch = mitogen.core.Latch()
        for recv in receivers:
            self.add(recv)

    @classmethod
    def all(cls, receivers: Iterable[Any]) -> list:
        """Return the unpickled result of every receiver, raising the first error."""
        return [msg.unpickle() for msg in cls(receivers)]

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
        try:
            if recv.notify != self._put:
                raise ValueError
            self._receivers.remove(recv)
            recv.notify = None
        except (IndexError, ValueError):
            raise Error('receiver not in this Select')

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
        if not self._receivers:
            raise Error('Select has no receivers')
        while True:
            recv = self._latch.get(timeout=timeout, block=block)
            try:
                if isinstance(recv, Select):
                    event = recv.get_event(block=False)
                else:
                    event = Event()
                    event.source = recv
                    event.data = recv.get(block=False)
            except mitogen.core.TimeoutError:
                continue   # Item consumed directly from the source meanwhile.
            if self._oneshot and recv in self._receivers:
                self.remove(recv)
            return event

"""Debugging aids: dump every thread's stack to the log on a signal.

Runs in any context (the controller, or a child after import forwarding):
``mitogen.debug.install_handler()`` then ``kill -USR2 <pid>``.
"""
import logging
import signal
import sys
import threading
import traceback

LOG = logging.getLogger('mitogen.debug')


def format_stacks() -> str:
    names = dict((t.ident, t.name) for t in threading.enumerate())
    parts = []
    for ident, frame in sys._current_frames().items():
        parts.append('Thread %s (%s):\n%s' % (ident, names.get(ident, '?'), ''.join(traceback.format_stack(frame))))
    return '\n'.join(parts)


def install_handler(signum: int = signal.SIGUSR2) -> None:
    """Log all thread stacks when signum arrives (main thread only)."""
    signal.signal(signum, lambda *_: LOG.warning('stacks:\n%s', format_stacks()))

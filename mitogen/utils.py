"""Helpers for scripts on the controller: router setup/teardown, logging, cast.

Runs on the controller.  `cast()` is also handy before sending data produced
by foreign libraries (e.g. Ansible's str/dict subclasses).
"""
import contextlib
import functools
import logging
import os
import sys
from typing import Any, Callable, Iterator, Optional, Union

import mitogen.core
import mitogen.master

LOG_FORMAT = '%(asctime)s %(levelname).1s %(name)s: %(message)s'


def log_to_file(path: Optional[str] = None, level: Union[str, int] = 'INFO') -> None:
    """Send the 'mitogen' loggers (and children's forwarded logs) to path or stderr."""
    logger = logging.getLogger('mitogen')
    if path:
        fp = open(path, 'a', 1)
        mitogen.core.set_cloexec(fp.fileno())
    else:
        fp = sys.stderr
    level = os.environ.get('MITOGEN_LOG_LEVEL', level)
    if not isinstance(level, int):
        level = getattr(logging, str(level).upper(), logging.INFO)
    logger.setLevel(level)
    handler = logging.StreamHandler(fp)
    handler.formatter = logging.Formatter(LOG_FORMAT)
    logger.handlers = [h for h in logger.handlers if not isinstance(h, logging.NullHandler)]
    logger.addHandler(handler)
    logger.propagate = False


@contextlib.contextmanager
def open_router(profiling: bool = False) -> Iterator[mitogen.master.Router]:
    """A master Router with a Broker of its own, shut down and joined on exit.

    profiling=True makes every child started from it write cProfile stats.
    """
    router = mitogen.master.Router()
    router.profiling = profiling
    try:
        yield router
    finally:
        router.broker.shutdown()
        router.broker.join()


def run_with_router(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call func(router, *args, **kwargs) with a fresh master router, then tear it down."""
    with open_router() as router:
        return func(router, *args, **kwargs)


def with_router(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: calling func(*args) runs func(router, *args) as run_with_router() does."""
    def call_with_router(*args: Any, **kwargs: Any) -> Any:
        return run_with_router(func, *args, **kwargs)
    # A plain function (unlike a partial) still binds as a method.
    return functools.update_wrapper(call_with_router, func)


def cast(obj: Any) -> Any:
    """Convert subclasses of dict/list/str/bytes/int/float recursively to the plain types."""
    if isinstance(obj, dict):
        return dict((cast(k), cast(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return [cast(v) for v in obj] if isinstance(obj, list) else tuple(cast(v) for v in obj)
    if isinstance(obj, (mitogen.core.Secret, mitogen.core.Blob)):
        return obj
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, bytes):
        return bytes(obj)
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    return obj

"""Zero-deploy distributed programming for Python: package entry points.

Runs on the controller (this file) and, as a stub package created by the
bootstrap, in every child.  The module attributes below describe the current
process's position in the context tree; children overwrite them at boot.
"""
import logging
from typing import Any, Callable

__version__ = '0.1.0'
version = tuple(int(x) for x in __version__.split('.'))

#: True only in the process that started the tree (the controller).
is_master = True
#: Our context id; the master is 0.
context_id = 0
#: Id of the parent context, None in the master.
parent_id = None
#: Ids of all parents, nearest first.
parent_ids = []
context_name = 'master'


def main(log_level: str = 'INFO', profiling: bool = False) -> Callable[[Callable[..., Any]], Any]:
    """Decorator: run the function at once with a fresh router as its argument.

    Intended for scripts::

        @mitogen.main()
        def main(router):
            router.local().call(os.getpid)
    """
    def wrapper(func: Callable[..., Any]) -> Any:
        if func.__module__ != '__main__':
            return func
        import mitogen.utils
        mitogen.utils.log_to_file(level=log_level)
        return mitogen.utils.run_with_router(func)
    return wrapper


logging.getLogger('mitogen').addHandler(logging.NullHandler())

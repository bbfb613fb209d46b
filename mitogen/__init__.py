"""Zero-deploy distributed programming for Python: package entry points.

Runs on the controller (this file) and, as a stub package created by the
bootstrap, in every child.  The module attributes below describe the current
process's position in the context tree; children overwrite them at boot.
"""
import logging
from typing import Any, Callable, Union

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


def main(log_level: Union[str, int] = 'INFO', profiling: bool = False) -> Callable[[Callable[..., Any]], Any]:
    """Decorator for scripts: run the function at once with a fresh router.

    Only when the function is defined in ``__main__`` of the master (in
    children, where the script is imported as ``__mitogen_main__``, it does
    nothing).  Logging of the 'mitogen' loggers goes to stderr at log_level;
    the router and its broker are shut down when the function returns or
    raises.  The decorated name is bound to the function's return value.
    profiling=True writes cProfile stats of the function and of every child
    to /tmp/mitogen.stats.<pid>.<context id>::

        @mitogen.main()
        def main(router):
            router.local().call(os.getpid)
    """
    def wrapper(func: Callable[..., Any]) -> Any:
        if func.__module__ != '__main__' or not is_master:
            return func
        import mitogen.core
        import mitogen.utils
        mitogen.utils.log_to_file(level=log_level)
        with mitogen.utils.open_router(profiling=profiling) as router:
            if profiling:
                return mitogen.core.run_profiled(func, router)
            return func(router)
    return wrapper


logging.getLogger('mitogen').addHandler(logging.NullHandler())

"""Stress for CPython's AST tree-building depth check under threads (see
ansible_mitogen/engine/ast_lock.py): threads parse deep expressions while
cyclic garbage with finalizers is collected, so the interpreter may switch
threads inside a tree build.

    python -m tests.ansible.ast_stress SECONDS [--install]

prints "defect <message>" at the first "AST constructor recursion depth
mismatch", else "clean" after SECONDS; --install calls ast_lock.install()
first, as the strategy does.  Used by test_engine_units and to check new
interpreters (any Python >= 3.10, it imports nothing else of ours unless
--install).
"""
import ast
import gc
import sys
import threading
import time
from typing import List

SOURCE = "x = " + "a + " * 200 + "a"
THREADS = 4


class _Cyclic:
    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        sum(range(50))  # Python code in a finalizer: the eval loop may switch threads


def stress(seconds: float) -> List[str]:
    """Errors of the depth check seen within `seconds` (stops at the first)."""
    errors: List[str] = []
    stop = time.monotonic() + seconds

    def parse_until_stop() -> None:
        while time.monotonic() < stop and not errors:
            for _ in range(20):
                _Cyclic()
            try:
                ast.parse(SOURCE)
            except SystemError as exc:
                errors.append(str(exc))

    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(5)
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=parse_until_stop) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)
    return errors


def main() -> None:
    if "--install" in sys.argv[2:]:
        from ansible_mitogen.engine import ast_lock

        ast_lock.install()
    errors = stress(float(sys.argv[1]))
    print("defect %s" % errors[0] if errors else "clean")


if __name__ == "__main__":
    main()

"""Code that travels to targets and intermediaries; nothing else here does.

Imported in target interpreters (and in the controller processes that
build calls for them).  mitogen's import forwarder sends each module on
first import, this package first, docstrings blanked: keep it empty and
its modules Python 3.8+, stdlib (and mitogen.core) only, small.
bench/bench_travel.py measures what they cost.
"""

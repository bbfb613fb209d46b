"""Test suites of the project; a package so `tests.testbed` is importable."""

"""ansible_mitogen's packages import each other in one direction only.

Controller-side, nothing run: every import of ours in each module (at the
top or inside a function) is read from its source and held against the
table of docs/HACKING.md ("Processes, and where their code lives").  The
code that travels (remote/) is checked by tests/ansible/test_exec_runner.py.
"""
import ast
import os

import pytest

import ansible_mitogen

PACKAGE_DIR = ansible_mitogen.PACKAGE_DIR

# Package (or top-level module) -> what of ours outside itself it may import:
# a package ("executor") or one module ("controller.speedups").
ALLOWED = {
    "connection_types": set(),
    "multiplexer": {"remote"},
    "executor": {"connection_types", "multiplexer", "remote"},
    # The strategy process's own hooks, used by the engine's forks and queue.
    "engine": {"connection_types", "controller.speedups", "controller.plugin_warmup"},
}


def _is_module(dotted):
    path = os.path.join(os.path.dirname(PACKAGE_DIR), *dotted.split("."))
    return os.path.isdir(path) or os.path.exists(path + ".py")


def imported_modules(path):
    """Every ansible_mitogen module `path` imports, by dotted name without the package."""
    out = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module + "." + alias.name if _is_module(node.module + "." + alias.name) else node.module
                     for alias in node.names]
        else:
            continue
        out.update(name.split(".", 1)[1] for name in names if name.startswith("ansible_mitogen."))
    return out


def modules_of(part):
    """(dotted name, path) of each module of package or module `part`."""
    top = os.path.join(PACKAGE_DIR, part)
    if not os.path.isdir(top):
        return [(part, top + ".py")]
    return [("%s.%s" % (part, name[:-3]), os.path.join(top, name))
            for name in sorted(os.listdir(top)) if name.endswith(".py")]


def allowed(part, name):
    return name == part or name.startswith(part + ".") or any(
        name == rule or name.startswith(rule + ".") for rule in ALLOWED[part])


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_imports_run_one_way(part):
    wrong = sorted("%s imports %s" % (module, name) for module, path in modules_of(part)
                   for name in imported_modules(path) if not allowed(part, name))
    assert not wrong


def test_the_reader_sees_imports_inside_functions():
    # A test that could not fail would prove nothing: the controller's
    # loaders import the action path (executor) inside a function.
    assert "executor.mixins" in imported_modules(os.path.join(PACKAGE_DIR, "controller", "loaders.py"))
    assert not allowed("executor", "controller.loaders")

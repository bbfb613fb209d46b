"""Boot-size reducer: strips docstrings and comments from Python source.

Used by mitogen.parent on the controller (or an intermediary that has the
source) before compressing mitogen/core.py for the bootstrap.  Output must
stay runnable on Python 3.8, so only syntax present in the input is emitted.
"""
import ast


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                body.pop(0)
                if not body:
                    body.append(ast.Pass())
    return tree


def minimize_source(source: str) -> str:
    """Return source without docstrings, comments or blank lines.

    An intermediary on Python 3.8 has no ast.unparse: it sends the source
    unchanged (only larger), rather than failing to start children.
    """
    if not hasattr(ast, 'unparse'):
        return source
    return ast.unparse(_strip_docstrings(ast.parse(source)))

"""A small mutation generator over `ast`, to check that `affected` misses no failure.

Operators: comparison flips (`<` to `>=`, `==` to `!=`, `in` to `not in`, ...),
off-by-one integer constants, negated `if`/`while` conditions, deleted
statements (replaced by `pass`). Used by the mutant-parity test and by
bench/testrun_history.py.
"""

from __future__ import annotations

import ast
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
    ast.NotIn: ast.In}


def _sites(tree: ast.AST) -> Iterator[tuple[str, ast.AST, int]]:
    """(kind, node, index) for every place a mutation can be made, in a stable order."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in FLIP:
                    yield "compare", node, i
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            yield "constant", node, 0
        elif isinstance(node, (ast.If, ast.While)):
            yield "negate", node, 0
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.If,
                             ast.While, ast.With)):
            body = node.body
            for i, stmt in enumerate(body):
                docstring = (i == 0 and isinstance(stmt, ast.Expr)
                             and isinstance(stmt.value, ast.Constant))
                if len(body) > 1 and not docstring and not isinstance(stmt, ast.Pass):
                    yield "delete", node, i


def count(source: str) -> int:
    return sum(1 for _ in _sites(ast.parse(source)))


def mutate(source: str, which: int) -> tuple[str, str]:
    """(description, mutated source) of mutation number `which` of `source`."""
    tree = ast.parse(source)
    for n, (kind, node, i) in enumerate(_sites(tree)):
        if n != which:
            continue
        line = getattr(node, "lineno", 0)
        if kind == "compare":
            assert isinstance(node, ast.Compare)
            old = type(node.ops[i])
            node.ops[i] = FLIP[old]()
            what = f"{old.__name__} -> {FLIP[old].__name__}"
        elif kind == "constant":
            assert isinstance(node, ast.Constant)
            what = f"{node.value} -> {node.value + 1}"
            node.value += 1
        elif kind == "negate":
            assert isinstance(node, (ast.If, ast.While))
            node.test = ast.UnaryOp(ast.Not(), node.test)
            what = "condition negated"
        else:
            body = node.body  # type: ignore[attr-defined]
            line = body[i].lineno
            body[i] = ast.Pass()
            what = "statement deleted"
        return f"line {line}: {what}", ast.unparse(ast.fix_missing_locations(tree))
    raise IndexError(which)


def sample(files: list[Path], n: int, seed: int = 0) -> list[tuple[Path, int]]:
    """Up to `n` (file, mutation number) pairs spread over `files`."""
    sites = [(f, k) for f in files for k in range(count(f.read_text()))]
    random.Random(seed).shuffle(sites)
    return sites[:n]


FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+::\S+)")


def serial_failures(root: Path, python: str = sys.executable, timeout: float = 600) -> set[str]:
    """Node ids a plain serial pytest run reports as failed or errored."""
    out = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
                          "-p", "no:randomly"], cwd=root, capture_output=True, text=True,
                         timeout=timeout, check=False)
    found = set()
    for line in out.stdout.splitlines():
        m = FAILED.match(line)
        if m:
            found.add(m.group(1))
    if out.returncode not in (0, 1, 5) and not found:
        found.add(f"<pytest exited {out.returncode}>")
    return found

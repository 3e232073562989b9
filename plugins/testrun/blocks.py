"""A Python file cut into blocks (the module body, each function and method) with checksums.

Why blocks and not files: a test depends on the functions it ran, so an edit to
one function re-runs only the tests that ran it. A block's checksum is taken
over its syntax tree (not its text), so comments and blank lines do not count
as changes; the module body is the file with every function body left out
(imports, constants, class bodies, decorators and signatures stay in it), its
top-level `from M import` statements of one module merged (see `merged_imports`).

Used both inside the test workers (recording) and in the daemon (comparing),
so this module imports only the standard library.
"""

from __future__ import annotations

import ast
import bisect
import hashlib
from dataclasses import dataclass, field

MODULE = "<module>"
"""The block of a file's module body."""
DATA = "<data>"
"""A non-Python file a test opened: the whole file is one block."""
CONFIG = "<config>"
"""A pytest configuration file or a conftest.py on the test's path: the whole file."""
BLOCKS_VERSION = 2
"""Bumped when the cutting or the checksums change (cached checksums are then redone)."""


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=10).hexdigest()


@dataclass
class FileBlocks:
    """The blocks of one source file: name -> checksum, and how to find a code object's."""

    checksums: dict[str, str]
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    """(first line incl. decorators, last line, qualified name), sorted by first line."""
    starts: dict[tuple[int, str], str] = field(default_factory=dict)
    """(first line, function name) -> qualified name, for code objects of functions."""

    def locate(self, firstlineno: int, name: str) -> str:
        """The block a code object (its first line and name) belongs to."""
        exact = self.starts.get((firstlineno, name))
        if exact is not None:
            return exact
        # lambdas, comprehensions, class bodies: the innermost function around the line
        i = bisect.bisect_right(self.spans, (firstlineno, 1 << 30, "")) - 1
        while i >= 0:  # the nearest span that starts before and contains it is the innermost
            start, end, qual = self.spans[i]
            if start <= firstlineno <= end:
                return qual
            i -= 1
        return MODULE


def _dump(node: ast.AST) -> bytes:
    return ast.dump(node, annotate_fields=False, include_attributes=False).encode()


def parse_blocks(source: bytes | str, filename: str = "<file>") -> FileBlocks:
    """Blocks of a Python source; a file that does not parse is one block (its bytes)."""
    raw = source.encode() if isinstance(source, str) else source
    try:
        tree = ast.parse(raw, filename)
    except (SyntaxError, ValueError):
        return FileBlocks({MODULE: "unparsable:" + digest(raw)})
    fb = FileBlocks({})
    funcs: list[ast.FunctionDef | ast.AsyncFunctionDef] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qual = prefix + child.name
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                end = child.end_lineno or child.lineno
                fb.checksums[qual] = digest(_dump(child))
                fb.spans.append((first, end, qual))
                fb.starts[(first, child.name)] = qual
                fb.starts.setdefault((child.lineno, child.name), qual)
                funcs.append(child)
                visit(child, qual + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    for f in funcs:
        f.body = []
    tree.body = merged_imports(tree.body)
    fb.checksums[MODULE] = digest(_dump(tree))
    fb.spans.sort()
    return fb


def _bound(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement binds (imports, assignments, defs, classes)."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Store)}


def merged_imports(body: list[ast.stmt]) -> list[ast.stmt]:
    """The module body with every top-level `from M import ...` of one module M merged into
    its first such statement, names sorted: moving a name from one such statement to
    another (as formatters and linters do) does not count as a change. Not done when one
    of those names is also bound by another top-level statement (then order can matter)."""
    firsts: dict[str, ast.ImportFrom] = {}
    names: dict[str, set[tuple[str, str | None]]] = {}
    others: set[str] = set()
    for stmt in body:
        if isinstance(stmt, ast.ImportFrom) and not stmt.level and stmt.module and all(
                a.name != "*" for a in stmt.names):
            firsts.setdefault(stmt.module, stmt)
            names.setdefault(stmt.module, set()).update((a.name, a.asname) for a in stmt.names)
        else:
            others |= _bound(stmt)
    merged = [m for m, st in firsts.items() if sum(
        isinstance(x, ast.ImportFrom) and x.module == m and not x.level for x in body) > 1]
    if not merged or any({a or n for n, a in names[m]} & others for m in merged):
        return body
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module in merged and not stmt.level:
            if stmt is firsts[stmt.module]:
                out.append(ast.ImportFrom(stmt.module, [ast.alias(n, a) for n, a in sorted(
                    names[stmt.module], key=lambda x: (x[0], x[1] or ""))], 0))
            continue
        out.append(stmt)
    return out


def imported_names(source: bytes | str, package: str) -> set[str]:
    """Module names a source imports anywhere (relative imports resolved against `package`)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                keep = len(parts) - (node.level - 1)
                if keep < 0:
                    continue
                base = ".".join(parts[:keep])
                mod = f"{base}.{node.module}" if node.module and base else (node.module or base)
            else:
                mod = node.module or ""
            if mod:
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
    return out

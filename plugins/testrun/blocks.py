"""A Python file cut into blocks (functions and methods, classes, the module residue)
with checksums.

Why blocks and not files: a test depends on the functions it ran and the classes it
used, so an edit to one function or class body re-runs only the tests that ran or used
it. A block's checksum is taken over its syntax tree (not its text), so comments and
blank lines do not count as changes. The module body left once functions and classes
are taken out (imports, constants, top-level statements) is the residue, which every
importer depends on; it is kept small so that an edit to a signature or a class
attribute does not select every importer of the file (see `parse_blocks`).

Used both inside the test workers (recording) and in the daemon (comparing),
so this module imports only the standard library.
"""

from __future__ import annotations

import ast
import bisect
import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

MODULE = "<module>"
"""The block of a file's module body (its residue: see `parse_blocks`)."""
NAMES = "<names>"
"""A file's top-level function and class names and its `from __future__` features; its
"checksum" is the sorted names themselves, and it counts as changed only when a recorded
name is gone (see `names_kept`)."""
MAIN = "<main>"
"""A file's top-level `if __name__ == "__main__":` statements (they never run on import)."""
DATA = "<data>"
"""A non-Python file a test opened: the whole file is one block."""
WHOLE = "<file>"
"""A project module's whole text: what a test whose trace was lost depends on."""
CONFIG = "<config>"
"""A pytest configuration file or a conftest.py on the test's path: the whole file."""
BLOCKS_VERSION = 6
"""Bumped when the cutting or the checksums change (cached checksums are then redone)."""


def class_block(qualname: str) -> str:
    """The block name of a class (its qualified name, dotted for a nested class)."""
    return f"<class {qualname}>"


def names_kept(recorded: str, current: str | None) -> bool:
    """Whether every name of a recorded `<names>` block is still there."""
    return current is not None and set(recorded.split()) <= set(current.split())


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


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _dump(node: ast.AST) -> bytes:
    return ast.dump(node, annotate_fields=False, include_attributes=False).encode()


def _undocumented(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> ast.AST:
    """A shallow copy of a def or class without its docstring."""
    if _docstring(node) is not None:
        node = copy.copy(node)
        node.body = node.body[1:]
    return node


def _docstring(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> ast.stmt | None:
    """The docstring statement of a def or class, if it has one."""
    first = node.body[0] if node.body else None
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return first
    return None


PLAIN_DECORATORS = frozenset({
    "property", "setter", "getter", "deleter", "staticmethod", "classmethod",
    "abstractmethod", "abstractproperty", "cached_property", "lru_cache", "cache", "wraps",
    "overload", "override", "final", "contextmanager", "asynccontextmanager",
    "total_ordering", "dataclass", "runtime_checkable", "unique", "no_type_check",
    "fixture"})
"""Decorators (by their last name) that only wrap or describe what they decorate, so the
head of what they decorate stays in its own block; `pytest.*` ones too (see `_head`)."""


def _decorator_name(node: ast.expr) -> tuple[str, str]:
    """(first, last) name of a decorator expression: `pytest.mark.skip(...)` gives
    ("pytest", "skip"); anything else ("", "")."""
    if isinstance(node, ast.Call):
        node = node.func
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return "", ""
    parts.append(node.id)
    return parts[-1], parts[0]


def _head(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bytes | None:
    """What a decorator can read of a def or class when the module is imported: its
    decorators, signature (or bases) and docstring; None when every decorator only wraps.

    A decorator runs at import and may keep what it reads where any importer sees it (a
    registry of commands by name, a CLI's help from docstrings and option defaults, a
    routing table), without the function itself ever running in the test that reads it."""
    plain = all(first == "pytest" or last in PLAIN_DECORATORS
                for first, last in map(_decorator_name, node.decorator_list))
    if plain or (isinstance(node, _DEFS) and node.name.startswith("test")):
        return None  # a test's decorators (`mock.patch`, `given`) are read by its own run
    parts: list[ast.AST] = list(node.decorator_list)
    if isinstance(node, ast.ClassDef):
        parts += [*node.bases, *node.keywords]
    else:
        parts.append(node.args)
        if node.returns is not None:
            parts.append(node.returns)
    doc = _docstring(node)
    if doc is not None:
        parts.append(doc)
    return b"\0".join(_dump(x) for x in parts)


def is_main_guard(stmt: ast.stmt) -> bool:
    """`if __name__ == "__main__":` (either way round)."""
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    t = stmt.test
    if len(t.ops) != 1 or not isinstance(t.ops[0], ast.Eq):
        return False
    sides = [t.left, t.comparators[0]]
    return any(isinstance(x, ast.Name) and x.id == "__name__" for x in sides) and any(
        isinstance(x, ast.Constant) and x.value == "__main__" for x in sides)


def _is_future(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__" and not stmt.level


def _stub(node: ast.stmt) -> ast.stmt:
    """A def or class reduced to its kind and name."""
    kind = "class" if isinstance(node, ast.ClassDef) else "def"
    return ast.Expr(ast.Constant(f"{kind} {getattr(node, 'name', '')}"))


def _strip(node: ast.AST, keep: Callable[[ast.stmt], bool]) -> None:
    """In every statement list of `node` outside nested defs and classes, replace each def
    and class by its stub (`keep`) or drop it."""
    for fname, value in ast.iter_fields(node):
        if isinstance(value, list):
            out = []
            for item in value:
                if isinstance(item, _SCOPES):
                    if keep(item):
                        out.append(_stub(item))
                    continue
                if isinstance(item, ast.AST):
                    _strip(item, keep)
                out.append(item)
            setattr(node, fname, out)
        elif isinstance(value, ast.AST):
            _strip(value, keep)


def _loads(node: ast.AST) -> set[str]:
    """Names read in a node already reduced by `_strip`."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}


def _top_bindings(body: list[ast.stmt]) -> dict[str, int]:
    """How many times each name is bound at module level (defs, classes, imports,
    assignments; inside `if`/`try`/`with`/loops too, not inside defs and classes)."""
    count: dict[str, int] = {}

    def add(name: str) -> None:
        count[name] = count.get(name, 0) + 1

    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, _SCOPES):
            add(node.name)
            todo.extend(getattr(node, "decorator_list", []))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                add((a.asname or a.name).split(".")[0])
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            add(node.id)
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                               ast.GeneratorExp)):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return count


def parse_blocks(source: bytes | str, filename: str = "<file>") -> FileBlocks:
    """Blocks of a Python source; a file that does not parse is one block (its bytes).

    * each function and method (nested functions too): its whole syntax tree, decorators,
      signature and body; a nested function is also part of its enclosing one;
    * each class outside a function, `<class Q>` (`Q` its qualified name): decorators,
      bases, keywords and body, with its methods and nested classes reduced to their names;
    * `<module>`, the residue: the module body with every def and class reduced to nothing,
      or to its name where that name is bound more than once at module level (then order
      matters), without `from __future__` imports and `if __name__ == "__main__":` blocks;
      its top-level `from M import` statements of one module merged (see `merged_imports`);
    * `<names>`: the top-level def and class names and the `__future__` features;
    * `<main>`: the `if __name__ == "__main__":` blocks.

    A class or the residue that reads a def or class of the same file (`X = Foo()` at
    top level, `padding = Prop()` in a class body, a base class) has that block's checksum
    mixed into its own: what runs at import or class creation counts there. The
    `__future__` features are mixed into every function and class block (they change
    how each is compiled)."""
    raw = source.encode() if isinstance(source, str) else source
    try:
        tree = ast.parse(raw, filename)
    except (SyntaxError, ValueError):
        return FileBlocks({MODULE: "unparsable:" + digest(raw)})
    fb = FileBlocks({})
    future = sorted({a.name for s in tree.body if isinstance(s, ast.ImportFrom)
                     and _is_future(s) for a in s.names})
    salt = ("\0future:" + ",".join(future)).encode() if future else b""
    funcs: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    classes: list[tuple[str, ast.ClassDef]] = []
    plain: dict[str, str] = {}
    """Function name -> its checksum without its docstring (what a reader mixes in)."""
    heads: list[bytes] = []
    """What decorators read at import of the defs and classes outside functions (`_head`)."""

    def put(name: str, checksum: str) -> None:
        old = fb.checksums.get(name)  # one name defined twice: both count
        fb.checksums[name] = checksum if old is None else digest((old + checksum).encode())

    def visit(node: ast.AST, prefix: str, in_func: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _DEFS):
                qual = prefix + child.name
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                end = child.end_lineno or child.lineno
                put(qual, digest(_dump(child) + salt))
                plain[qual] = (digest(_dump(_undocumented(child)) + salt) if qual not in plain
                               else fb.checksums[qual])
                fb.spans.append((first, end, qual))
                fb.starts[(first, child.name)] = qual
                fb.starts.setdefault((child.lineno, child.name), qual)
                funcs.append(child)
                head = None if in_func else _head(child)
                if head is not None:
                    heads.append(qual.encode() + b"=" + head)
                visit(child, qual + ".", True)
            elif isinstance(child, ast.ClassDef):
                qual = prefix + child.name
                if not in_func:
                    name = class_block(qual)
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    fb.spans.append((first, child.end_lineno or child.lineno, name))
                    fb.starts.setdefault((first, child.name), name)
                    fb.starts.setdefault((child.lineno, child.name), name)
                    classes.append((qual, child))
                    head = _head(child)
                    if head is not None:
                        heads.append(qual.encode() + b"=" + head)
                visit(child, qual + ".", in_func)
            else:
                visit(child, prefix, in_func)

    visit(tree, "", False)
    for f in funcs:
        f.body = []
    # classes, innermost first: each reduced (nested ones are done by then), then mixed
    base: dict[str, tuple[bytes, bytes, set[str]]] = {}
    """Class -> (its reduced tree, the same without its docstring, the names it reads)."""
    for qual, node in reversed(classes):
        _strip(node, lambda _: True)
        base[qual] = (_dump(node) + salt, _dump(_undocumented(node)) + salt, _loads(node))
    body = [s for s in tree.body if not _is_future(s) and not is_main_guard(s)]
    mains = [s for s in tree.body if is_main_guard(s)]
    bound = _top_bindings(body)
    top = {s for s in bound if s in fb.checksums or s in base}
    done: dict[tuple[str, bool], str] = {}

    def effective(qual: str, busy: set[str], doc: bool) -> str:
        """A class's checksum (without its docstring unless `doc`) with those of the
        same-file defs and classes it reads."""
        got = done.get((qual, doc))
        if got is not None:
            return got
        data, undocumented, reads = base[qual]
        parts = [data if doc else undocumented]
        for n in sorted(reads):
            inner = f"{qual}.{n}"
            target = inner if inner in base or inner in fb.checksums else (
                n if n in top else None)
            if target is not None and target not in busy:
                parts.append(f"\0{n}=".encode() + mixed(target, busy | {qual}).encode())
        got = done[(qual, doc)] = digest(b"".join(parts))
        return got

    def mixed(name: str, busy: set[str]) -> str:
        """What a reader of `name` mixes in: docstrings are left out (they never run; a
        test reading one runs or names what holds it, whose own block has it)."""
        parts = []
        if name in base:
            parts.append(effective(name, busy, False))
        if name in fb.checksums:
            parts.append(plain.get(name, fb.checksums[name]))
        return parts[0] if len(parts) == 1 else digest("".join(parts).encode())

    for qual, _ in classes:
        put(class_block(qual), effective(qual, set(), True))
    tree.body = merged_imports(body)
    _strip(tree, lambda stmt: bound.get(getattr(stmt, "name", ""), 0) > 1)
    parts = [_dump(tree)]
    for n in sorted(_loads(tree) & top):
        parts.append(f"\0{n}=".encode() + mixed(n, set()).encode())
    parts += [b"\0head " + h for h in sorted(heads)]
    fb.checksums[MODULE] = digest(b"".join(parts))
    fb.checksums[NAMES] = " ".join(sorted(top) + [f"__future__.{f}" for f in future])
    if mains:
        fb.checksums[MAIN] = digest(b"".join(_dump(m) for m in mains))
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
    another, or reordering the names of one (as formatters and linters do), does not count
    as a change. Not done for a module M when one of its names is also bound by another
    top-level statement, or twice (then order can matter)."""
    firsts: dict[str, ast.ImportFrom] = {}
    names: dict[str, list[tuple[str, str | None]]] = {}
    others: dict[str, set[str]] = {}
    """Bound name -> the modules of the mergeable imports binding it ('' for any other)."""
    for stmt in body:
        m = ""
        if isinstance(stmt, ast.ImportFrom) and not stmt.level and stmt.module and all(
                a.name != "*" for a in stmt.names):
            m = stmt.module
            firsts.setdefault(m, stmt)
            names.setdefault(m, []).extend((a.name, a.asname) for a in stmt.names)
        for n in _bound(stmt):
            others.setdefault(n, set()).add(m)
    merged = set()
    for m, pairs in names.items():
        binds = [a or n for n, a in set(pairs)]
        if len(set(binds)) != len(binds):
            continue
        if any(others.get(b, set()) - {m} for b in binds):
            continue
        merged.add(m)
    if not merged:
        return body
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module in merged and not stmt.level:
            if stmt is firsts[stmt.module]:
                out.append(ast.ImportFrom(stmt.module, [ast.alias(n, a) for n, a in sorted(
                    set(names[stmt.module]), key=lambda x: (x[0], x[1] or ""))], 0))
            continue
        out.append(stmt)
    return out


def imported_names(source: bytes | str, package: str) -> set[str]:
    """Module names a source imports anywhere (relative imports resolved against `package`)
    but in its `if __name__ == "__main__":` blocks, which do not run on import."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    out: set[str] = set()
    tree.body = [s for s in tree.body if not is_main_guard(s)]
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

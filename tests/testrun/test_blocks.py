"""Block checksums: what counts as a change of a module body."""

from __future__ import annotations

from catalytic.plugins.testrun.blocks import MODULE, NAMES, names_kept, parse_blocks

BASE = "from typing import (\n    Dict,\n    List,\n)\nfrom os import path\n\n" \
       "from typing import Literal, Protocol\n\nX = 1\n"


def body(source: str) -> str:
    return parse_blocks(source).checksums[MODULE]


def test_names_moved_between_imports_of_one_module_are_no_change() -> None:
    moved = "from typing import Dict, List, Literal, Protocol\nfrom os import path\n\nX = 1\n"
    assert body(moved) == body(BASE)


def test_what_an_import_binds_and_where_it_runs_still_count() -> None:
    assert body(BASE.replace(", Protocol", "")) != body(BASE)  # a name fewer
    assert body(BASE.replace("Literal", "Final")) != body(BASE)
    # the module first imported after another one: import order can matter
    swapped = "from os import path\nfrom typing import Dict, List, Literal, Protocol\n\nX = 1\n"
    assert body(swapped) != body(BASE)
    # a name also bound elsewhere at top level: where the import binds it matters
    shadow = BASE.replace("X = 1", "Literal = None")
    moved = ("from typing import Dict, List, Literal, Protocol\nfrom os import path\n\n"
             "Literal = None\n")
    assert body(moved) != body(shadow)


SRC = '''import enum

LIMIT = 3


class Color(enum.Enum):
    RED = 1

    def label(self):
        return self.name


def scale(v, factor=2):
    return v * factor


DEFAULT = Color.RED

if __name__ == "__main__":
    print(scale(LIMIT))
'''


def changed(old: str, new: str) -> set[str]:
    a, b = parse_blocks(old).checksums, parse_blocks(new).checksums
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def test_each_edit_changes_its_own_block() -> None:
    assert changed(SRC, SRC.replace("factor=2", "factor=3")) == {"scale"}
    assert changed(SRC, SRC.replace("LIMIT = 3", "LIMIT = 4")) == {MODULE}
    assert changed(SRC, SRC.replace("print(scale", "print(2 * scale")) == {"<main>"}
    # a method: its own block; the class's members are unchanged
    assert changed(SRC, SRC.replace("self.name", "self.name.lower()")) == {"Color.label"}
    # the class body: the class block, and the residue that reads the class at import
    assert changed(SRC, SRC.replace("RED = 1", "RED = 2")) == {"<class Color>", MODULE}
    # a new top-level name: only the names (where a new name is no change, see names_kept)
    got = changed(SRC, SRC.replace("\n\ndef scale", "\n\ndef extra():\n    pass\n\n\ndef scale"))
    assert got == {"extra", NAMES}
    # __future__: every function and class; the residue only where it reads a class of
    # the file at import (here `DEFAULT = Color.RED`)
    assert changed(SRC, "from __future__ import annotations\n" + SRC) == {
        "scale", "Color.label", "<class Color>", NAMES, MODULE}
    assert changed(SRC.replace("DEFAULT = Color.RED", "DEFAULT = 1"),
                   "from __future__ import annotations\n" + SRC.replace(
                       "DEFAULT = Color.RED", "DEFAULT = 1")) == {
        "scale", "Color.label", "<class Color>", NAMES}


def test_names_kept_only_counts_removed_names() -> None:
    assert names_kept("a b", "a b c")
    assert not names_kept("a b", "a c")
    assert not names_kept("a", None)


DOCS = '''class _Inherit:
    """Marks a state that inherits from its superclass."""

    def __repr__(self):
        """Its name."""
        return "inherit"


def make():
    """A fresh marker."""
    return _Inherit()


inherit = _Inherit()
fresh = make()
'''


def test_a_docstring_counts_for_its_own_block_not_for_readers() -> None:
    """The residue that instantiates a class (or calls a function) mixes in its checksum,
    docstring left out: the docstring never runs, and a test reading it ran or named the
    class, whose own block keeps it (pygments edited such a docstring in lexer.py, which
    made every test of the suite run)."""
    before = parse_blocks(DOCS).checksums
    edited = parse_blocks(DOCS.replace("Marks a state", "Marks the state")
                          .replace("A fresh marker", "A new marker")).checksums
    assert edited["<class _Inherit>"] != before["<class _Inherit>"]
    assert edited["make"] != before["make"]
    assert edited[MODULE] == before[MODULE]
    # code in the class body still counts for the residue that runs it
    code = parse_blocks(DOCS.replace("    def __repr__", "    kind = 1\n\n    def __repr__"))
    assert code.checksums[MODULE] != before[MODULE]
    # a method's docstring is part of that method only
    method = parse_blocks(DOCS.replace('"""Its name."""', '"""Its label."""')).checksums
    assert method["_Inherit.__repr__"] != before["_Inherit.__repr__"]
    assert method[MODULE] == before[MODULE]


COMMANDS = '''from functools import lru_cache

from mylib.registry import command


@command("greet", default=3)
def greet(times: int = 1) -> str:
    """Say hello."""
    return "hello" * times


class Box:
    @property
    def size(self) -> int:
        """Its size."""
        return 1

    @lru_cache(maxsize=8)
    def area(self) -> int:
        return 1


@patch("os.sep", "/")
def test_sep() -> None:
    """A test's own decorators."""
'''


def test_what_a_decorator_reads_at_import_counts_for_importers() -> None:
    """A decorator runs at import and can keep what it reads of a function (its name,
    option defaults, docstring) where a test sees it without running the function: a
    registry, a CLI's help. So the head of a decorated def (decorators, signature,
    docstring) counts in the residue; its body, a test's decorators and the heads under
    decorators that only wrap (`property`, `lru_cache`, ...) do not."""
    before = parse_blocks(COMMANDS).checksums
    for old, new in [('"greet", default=3', '"hi", default=3'),
                     ("default=3", "default=4"),
                     ('"""Say hello."""', '"""Say hi."""'),
                     ("times: int = 1", "times: int = 2")]:
        after = parse_blocks(COMMANDS.replace(old, new)).checksums
        assert after[MODULE] != before[MODULE], old
        assert after["greet"] != before["greet"], old
    body_edit = parse_blocks(COMMANDS.replace('"hello" * times', '"hi" * times')).checksums
    assert body_edit["greet"] != before["greet"]
    assert body_edit[MODULE] == before[MODULE]
    for old, new in [('"""Its size."""', '"""Its width."""'), ("maxsize=8", "maxsize=9"),
                     ('"os.sep", "/"', '"os.sep", "\\\\"')]:
        after = parse_blocks(COMMANDS.replace(old, new)).checksums
        assert after[MODULE] == before[MODULE], old

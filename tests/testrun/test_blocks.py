"""Block checksums: what counts as a change of a module body."""

from __future__ import annotations

from catalytic.plugins.testrun.blocks import MODULE, parse_blocks

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

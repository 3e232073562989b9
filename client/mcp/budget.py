"""Count what the tool list costs an agent: `cl100k_base` tokens of the JSON it receives.

`bpe-openai` ships the vocabulary in its wheel, so counting needs no download.
Used by the budget test and by bench/mcp.py.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from typing import Any

TOOLS_TOKEN_BUDGET = 2000


def tools_json(tools: list[Any]) -> str:
    """The `tools` array of a tools/list answer as sent on the wire (aliases, no nulls)."""
    return json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True)
                       for t in tools], separators=(",", ":"), ensure_ascii=False)


@cache
def _cl100k() -> Any:
    with warnings.catch_warnings():  # loading its vocabulary uses a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        from bpe_openai import get_encoding

        return get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(_cl100k().encode(text))

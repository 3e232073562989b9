"""Readers for the key-access trace formats the workspace replays.

Formats (chosen by `fmt`, or from the file name with `fmt="auto"`):
  text    one integer key a line (`#` comments and a trailing `*` are ignored)
  columns whitespace-separated `time id size` a line (AdaptSize); keys = id
  i32/u32/i64  big-endian binary keys (cache2k, CloudPhysics w106, Scarab, Corda)
Files may be compressed with .gz, .xz or .bz2. A text line that is not a key
raises TraceError naming the file and the line number.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = ("auto", "text", "columns", "i32", "u32", "i64")
_BINARY = {"i32": ">i4", "u32": ">u4", "i64": ">i8"}


class TraceError(ValueError):
    """A trace that cannot be read; the message names the file and line."""


def _open(path: Path) -> Any:
    name = path.name
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".xz"):
        return lzma.open(path, "rb")
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def guess_format(path: Path) -> str:
    """The format of a trace from its name (the corpus's conventions)."""
    p = str(path).lower()
    if "adapt_size" in p or "request.trace" in p:
        return "columns"
    if "cloud_physics" in p or "w106" in p:
        return "u32"
    if "cache2k" in p or any(n in p for n in ("web07", "web12", "orm-busy", "orm-night")):
        return "i32"
    if "scarab" in p or "corda" in p or "vaultservice" in p:
        return "i64"
    return "text"


def _parse_text(lines: list[bytes], path: Path, columns: bool, limit: int | None) -> list[int]:
    keys: list[int] = []
    for no, raw in enumerate(lines, 1):
        line = raw.strip().rstrip(b"*").strip()
        if not line or line.startswith(b"#"):
            continue
        field = line.split()[1] if columns else line
        try:
            keys.append(int(field))
        except (ValueError, IndexError):
            text = raw.decode("utf-8", "replace").strip()[:60]
            raise TraceError(f"{path.name}: line {no}: not a key: {text!r}") from None
        if limit is not None and len(keys) >= limit:
            break
    return keys


def read_trace(path: str | Path, fmt: str = "auto", limit: int | None = None) -> list[int]:
    """The keys of the trace at `path`, as Python ints (at most `limit` of them)."""
    path = Path(path)
    if fmt not in FORMATS:
        raise TraceError(f"unknown trace format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = guess_format(path)
    try:
        with _open(path) as f:
            data = f.read()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise TraceError(f"{path.name}: cannot read: {exc}") from None
    if fmt in _BINARY:
        dtype: Any = np.dtype(_BINARY[fmt])
        usable = len(data) - len(data) % dtype.itemsize
        arr = np.frombuffer(data[:usable], dtype=dtype)
        if limit is not None:
            arr = arr[:limit]
        return [int(x) for x in arr.tolist()]
    return _parse_text(data.splitlines(), path, fmt == "columns", limit)


def parse_keys(text: str, name: str = "keys") -> list[int]:
    """Keys from an uploaded text body (one integer a line)."""
    return _parse_text(text.encode().splitlines(), Path(name), False, None)

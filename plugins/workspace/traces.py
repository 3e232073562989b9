"""Readers for the key-access trace formats the workspace replays.

Formats (chosen by `fmt`, or from the file name with `fmt="auto"`):
  text    one integer key a line (`#` comments and a trailing `*` are ignored)
  columns whitespace-separated `time id size` a line (AdaptSize); keys = id
  i32/u32/i64  big-endian binary keys (cache2k, CloudPhysics w106, Scarab, Corda)
Files may be compressed with .gz, .xz or .bz2. A text line that is not a key
raises TraceError naming the file and the line number, never quoting the line
(a trace path may name any file under the roots, and its content is not ours to
echo). Reading stops at `limit` keys, so memory follows the limit, not the file.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = ("auto", "text", "columns", "i32", "u32", "i64")
_BINARY = {"i32": ">i4", "u32": ">u4", "i64": ">i8"}
_COMPRESSED = (".gz", ".xz", ".bz2")
EXPANSION = 20
"""Assumed most a compressed trace grows when read, for estimates (the file's own
uncompressed size is not known before reading it)."""
BYTES_PER_KEY = 48
"""Memory a replayed request costs a job: a Python int in a list plus its share of
the file's bytes and of the policy's tables."""


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


def _parse_text(lines: Iterable[bytes], path: Path, columns: bool,
                limit: int | None) -> list[int]:
    keys: list[int] = []
    want = "a `time id size` line" if columns else "one integer key a line"
    for no, raw in enumerate(lines, 1):
        line = raw.strip().rstrip(b"*").strip()
        if not line or line.startswith(b"#"):
            continue
        field = line.split()[1] if columns else line
        try:
            keys.append(int(field))
        except (ValueError, IndexError):
            raise TraceError(f"{path.name}: line {no} is not a key (expected {want})") from None
        if limit is not None and len(keys) >= limit:
            break
    return keys


def _lines(f: Any, block: int = 4 << 20) -> Iterator[bytes]:
    """The lines of a binary file, read a block at a time (as fast as one `read()` and
    `splitlines()`, without holding the whole file when the reader stops early)."""
    rest = b""
    while chunk := f.read(block):
        lines = (rest + chunk).splitlines(keepends=True)
        # a last line without "\n" may go on in the next block (a "\r" may be half of "\r\n")
        rest = lines.pop() if not lines[-1].endswith(b"\n") else b""
        yield from lines
    if rest:
        yield rest


def resolve_format(path: Path, fmt: str) -> str:
    if fmt not in FORMATS:
        raise TraceError(f"unknown trace format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return guess_format(path) if fmt == "auto" else fmt


def estimate_requests(path: str | Path, fmt: str = "auto", limit: int | None = None) -> int:
    """Most keys reading `path` can yield, from its size alone (no reading): a binary
    key per item, a text key per two bytes; compressed files by `EXPANSION`."""
    path = Path(path)
    size = path.stat().st_size
    if path.name.endswith(_COMPRESSED):
        size *= EXPANSION
    fmt = resolve_format(path, fmt)
    per = np.dtype(_BINARY[fmt]).itemsize if fmt in _BINARY else 2
    n = size // per
    return min(n, limit) if limit is not None else n


def read_trace(path: str | Path, fmt: str = "auto", limit: int | None = None) -> list[int]:
    """The keys of the trace at `path`, as Python ints (at most `limit` of them)."""
    path = Path(path)
    fmt = resolve_format(path, fmt)
    try:
        with _open(path) as f:
            if fmt in _BINARY:
                dtype: Any = np.dtype(_BINARY[fmt])
                data = f.read(-1 if limit is None else limit * dtype.itemsize)
                usable = len(data) - len(data) % dtype.itemsize
                return [int(x) for x in np.frombuffer(data[:usable], dtype=dtype).tolist()]
            return _parse_text(_lines(f), path, fmt == "columns", limit)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise TraceError(f"{path.name}: cannot read: {reason}") from None


def parse_keys(text: str, name: str = "keys") -> list[int]:
    """Keys from an uploaded text body (one integer a line)."""
    return _parse_text(text.encode().splitlines(), Path(name), False, None)

"""stdio for the MCP server on asyncio pipes, without a thread hop per message.

The SDK's default stdio transport reads and writes through worker threads
(three hand-offs per call); on a busy machine those cost more than the rest of
a call. This hands the SDK's `stdio_server` line streams over asyncio pipes on
private duplicates of fd 0 and 1, and, as the SDK does, points fd 0 at the null
device and fd 1 at stderr meanwhile, so stray output never reaches the wire.
Where stdin or stdout cannot be one (a regular file), it yields None and the SDK's own
transport is used.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

MAX_LINE = 1 << 28
"""The longest message accepted (a document sent as parse_prd's text can be large)."""


class LineReader:
    """`async for line in reader`: lines of text, as the SDK's transport reads them."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> LineReader:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class LineWriter:
    """`await write(text)` then `await flush()`, as the SDK's transport writes."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


def _private_copy(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


@asynccontextmanager
async def stdio_pipes() -> AsyncIterator[tuple[Any, Any] | None]:
    """(stdin lines, stdout writer) for `mcp.server.stdio.stdio_server`, or None."""
    loop = asyncio.get_running_loop()
    try:
        wire_in, wire_out = _private_copy(0), _private_copy(1)
    except OSError:
        yield None
        return
    read_file = os.fdopen(wire_in, "rb", buffering=0)
    write_file = os.fdopen(wire_out, "wb", buffering=0)
    reader = asyncio.StreamReader(limit=MAX_LINE)
    read_transport: asyncio.BaseTransport | None = None
    try:
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), read_file)
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, write_file)
    except (OSError, ValueError):  # e.g. a regular file: not a pipe, socket or terminal
        if read_transport is not None:
            read_transport.close()
        read_file.close()
        write_file.close()
        yield None
        return
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    saved_in, saved_out = _private_copy(0), _private_copy(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    try:
        yield LineReader(reader), LineWriter(writer)
    finally:
        os.dup2(saved_in, 0)
        os.dup2(saved_out, 1)
        os.close(saved_in)
        os.close(saved_out)
        transport.close()
        read_transport.close()

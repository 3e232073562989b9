"""Decode one large request frame in a thread, so its bytes never hold up the event loop.

A request of many MiB (a large `workspace.put`, a big document) costs the loop a
copy per chunk into the connection's unpacker, copies each time its buffer grows,
one more when the value is built, and garbage collections while its objects are
made: a ping on another connection waited up to hundreds of ms. Once a frame
still incomplete passes `LARGE_FRAME_BYTES`, the connection hands its chunks to a
`LargeFrame` instead: the loop only appends them to a list; a thread finds where
the message ends (`frame_scan.py`) and, with the cyclic GC paused, decodes it with
the connection's bounds, then tells the loop where it ended.
"""

from __future__ import annotations

import asyncio
import gc
import queue
import threading
from collections.abc import Callable
from typing import Any

from catalytic.daemon.frame_scan import FrameScan

LARGE_FRAME_BYTES = 1 << 20
"""A frame still incomplete past this many bytes is decoded off the loop."""

Done = Callable[["LargeFrame", Any, BaseException | None], None]
"""Called on the loop: (frame, the decoded message or None, the decode error or None)."""

_gc_lock = threading.Lock()
_gc_paused = 0
_gc_was_enabled = False


def _pause_gc() -> None:
    """Stop cyclic collections (each would walk every object the decode made so far)."""
    global _gc_paused, _gc_was_enabled
    with _gc_lock:
        if _gc_paused == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_paused += 1


def _resume_gc() -> None:
    global _gc_paused
    with _gc_lock:
        _gc_paused -= 1
        if _gc_paused == 0 and _gc_was_enabled:
            gc.enable()


class LargeFrame:
    """The bytes of one large frame from stream offset `start`, decoded by a thread.

    `add` (on the loop) keeps each chunk and passes it on; when the message is complete
    (or cannot be decoded) `done` runs on the loop once; `end` is then the stream offset
    after the message, and `rest()` the bytes received after it."""

    def __init__(self, start: int, chunks: list[bytes], options: dict[str, Any],
                 done: Done) -> None:
        self.start = start
        self.chunks: list[bytes] = []
        self.size = 0
        self.end = -1
        self.finished = False
        self._loop = asyncio.get_running_loop()
        self._inbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._done = done
        _pause_gc()
        self._thread = threading.Thread(target=self._decode, args=(options,),
                                        name="large-frame", daemon=True)
        for chunk in chunks:
            self.add(chunk)
        self._thread.start()

    def add(self, chunk: bytes) -> None:
        """One more chunk of the stream (on the loop)."""
        if chunk and not self.finished:
            self.chunks.append(chunk)
            self.size += len(chunk)
            self._inbox.put(chunk)

    def abandon(self) -> None:
        """The connection closed: stop the thread; `done` is not called."""
        if not self.finished:
            self.finished = True
            self._inbox.put(None)

    def rest(self) -> bytes:
        """The bytes received after the message (the start of the next ones)."""
        skip = self.end - self.start
        out, seen = [], 0
        for chunk in self.chunks:
            if seen + len(chunk) > skip:
                out.append(chunk[max(0, skip - seen):])
            seen += len(chunk)
        return b"".join(out)

    def _decode(self, options: dict[str, Any]) -> None:
        """(In the thread.) `options` are the connection's `msgpack.Unpacker` arguments."""
        message: Any = None
        error: BaseException | None = None
        scan = FrameScan(max(options["max_bin_len"], options["max_str_len"]))
        try:
            while True:
                chunk = self._inbox.get()
                if chunk is None:
                    return
                if scan.add(chunk):
                    message = scan.decode(options)
                    self.end = self.start + scan.end
                    break
        except Exception as exc:  # the stream is broken: the loop answers and closes
            error = exc
        finally:
            _resume_gc()
        try:
            self._loop.call_soon_threadsafe(self._finish, message, error)
        except RuntimeError:
            pass  # the loop is closed: the daemon is stopping

    def _finish(self, message: Any, error: BaseException | None) -> None:
        if self.finished:
            return
        self.finished = True
        self._done(self, message, error)

"""One client connection: bytes in, msgpack documents to the dispatcher, answers out.

The connection only frames: it checks the peer, decodes the stream with a
bounded `msgpack.Unpacker`, hands the decoded messages to
`Dispatcher.serve`, and writes the answers one read produced in one write.
It also keeps the connection's bounds: a peer that does not read its answers
is not read from (backpressure) and is closed past `limits.max_unsent_bytes`;
a stream that breaks is answered once, naming the msgid when it was readable,
and closed. An asyncio.Protocol (not streams) keeps the per-request cost low.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgpack

from catalytic.daemon.dispatch import FrameError
from catalytic.daemon.large_frame import LARGE_FRAME_BYTES, LargeFrame
from catalytic.daemon.state import ServerState
from catalytic.protocol.errors import (
    Forbidden,
    InternalError,
    InvalidRequest,
    Overloaded,
    ParseError,
    RpcError,
    TooLarge,
)
from catalytic.protocol.wire import REQUEST, RESPONSE, Packed

HEAD_BYTES = 64
WRITE_HIGH_WATER = 256 << 10
"""Above this many unsent bytes the connection stops reading its peer's requests."""
_CRED = struct.Struct("3i")
_packb = msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape").pack


def _pairs(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """Maps as dicts; a key that cannot be one (an array or a map) becomes a string naming
    it, so validation refuses it as an unknown param instead of the stream breaking."""
    try:
        return dict(pairs)
    except TypeError:
        return {(k if isinstance(k, str | int | float | bytes | bool | None)
                 else f"<{type(k).__name__} key {k!r:.40}>"): v for k, v in pairs}


class Connection(asyncio.Protocol):
    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.unpacker = self.new_unpacker()
        self.transport: asyncio.Transport | None = None
        self.session = state.dispatcher.open_session("socket", self.send)
        self.peer: tuple[int, int, int] | None = None
        self.fed = 0
        self.boundary = 0
        """Stream offset where the first message not yet answered begins."""
        self.head = b""
        self.head_at = -1
        self.tail: list[bytes] = []
        """The chunks received since `boundary` (those of an incomplete message), the first
        starting at stream offset `tail_at`: references, not copies."""
        self.tail_at = 0
        self.tell = self.unpacker.tell
        """The stream offset after the last message decoded."""
        self.large: LargeFrame | None = None
        """The large frame being decoded off the loop (`large_frame.py`), if any."""
        self.partial_since: float | None = None
        self.batch: list[bytes] | None = None
        self.closed = False
        self.connected_at = self.last_read = self.last_drained = time.monotonic()
        self.ever_read = False
        self.unsent_seen = 0
        """Unsent bytes at the previous sweep: a peer past the budget that did not read
        since then is closed."""

    def decoding(self) -> dict[str, Any]:
        """How requests are decoded: `msgpack.Unpacker` arguments with the connection's bounds."""
        limits = self.state.limits
        return {"raw": False, "strict_map_key": False, "unicode_errors": "strict",
                "object_pairs_hook": _pairs, "max_buffer_size": limits.max_buffer_bytes,
                "max_bin_len": limits.max_message_bytes, "max_str_len": limits.max_message_bytes}

    def new_unpacker(self) -> msgpack.Unpacker:
        """A stream decoder with the connection's bounds."""
        return msgpack.Unpacker(**self.decoding())

    @property
    def inflight(self) -> dict[int, Any]:
        return self.session.inflight

    # -- connection lifecycle ---------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        st = self.state
        st.total_connections += 1
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                self.peer = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                          _CRED.size))
            except OSError:
                self.peer = None
        if self.peer is not None and not self._peer_allowed(self.peer):
            st.refused_connections += 1
            st.log.warning("refused connection from pid %s uid %s gid %s", *self.peer)
            self.fail(Forbidden(f"uid {self.peer[1]} is not allowed to use this daemon "
                                "(security.allowed_uids / allowed_gids)"), None)
            return
        if len(st.connections) >= st.limits.max_connections and not self._evict_silent():
            st.refused_connections += 1
            self.fail(Overloaded(f"too many connections (limits.max_connections = "
                                 f"{st.limits.max_connections})"), None)
            return
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)  # type: ignore[attr-defined]
        st.connections.add(self)

    def _evict_silent(self) -> bool:
        """At the connection limit, close the oldest peer that never sent a byte (a silent
        peer must not lock others out); False when there is none."""
        now = time.monotonic()
        silent = [c for c in self.state.connections
                  if not c.ever_read and not c.closed and now - c.connected_at > 1.0]
        if not silent:
            return False
        victim = min(silent, key=lambda c: c.connected_at)
        self.state.log.info("closing a connection silent for %.0f s to admit a new one "
                            "(limits.max_connections)", now - victim.connected_at)
        victim.close()
        return True

    def _peer_allowed(self, peer: tuple[int, int, int]) -> bool:
        _pid, uid, gid = peer
        st = self.state
        return uid == os.getuid() or uid in st.allowed_uids or gid in st.allowed_gids

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.large is not None:
            self.large.abandon()
            self.large = None
        self.state.connections.discard(self)
        self.state.dispatcher.close_session(self.session)

    def close(self) -> None:
        """Close without a last answer; everything the peer started is cancelled."""
        self.closed = True
        self.session.open = False
        if self.transport is not None:
            self.transport.abort()

    def pause_writing(self) -> None:
        self.session.blocked = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.session.blocked = False
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()
            # answer what was read but left waiting while the peer did not read
            asyncio.get_running_loop().call_soon(self.process, b"", self.fed)

    # -- output -------------------------------------------------------------------
    def send(self, message: list[Any]) -> None:
        if self.closed or self.transport is None:
            return
        chunks: list[bytes] | None = None
        try:
            if type(message[-1]) is Packed:  # an answer encoded off the loop: its header,
                chunks = message[-1].chunks  # then its bytes as they are
                data = _packb([*message[:-1], None])[:-1]
            else:
                data = _packb(message)
        except (TypeError, ValueError, OverflowError) as exc:
            msgid = message[1] if message[0] == RESPONSE else None
            data = _packb([RESPONSE, msgid, InternalError(
                f"result could not be encoded as msgpack: {exc}").to_map(), None])
        unsent = self.transport.get_write_buffer_size()
        limit = self.state.limits.max_unsent_bytes
        if unsent > limit:
            self.state.log.warning("closing a connection that left %d bytes of answers unread "
                                   "(limits.max_unsent_bytes = %d)", unsent, limit)
            self.close()
            return
        if chunks is not None:
            self.flush()
            self.transport.writelines([data, *chunks])
        elif self.batch is not None and len(data) < WRITE_HIGH_WATER:
            self.batch.append(data)
        else:
            self.flush()
            self.transport.write(data)

    def flush(self) -> None:
        """Hand the answers gathered so far to the transport."""
        if self.batch and self.transport is not None and not self.closed:
            self.transport.write(b"".join(self.batch))
            self.batch.clear()

    def fail(self, error: RpcError, msgid: int | None) -> None:
        """Answer one last error and close the stream (it cannot be trusted any more)."""
        self.send([RESPONSE, msgid, error.to_map(), None])
        self.flush()
        self.batch = None
        self.closed = True
        self.session.open = False
        if self.transport is not None:
            self.transport.close()

    # -- input --------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        start_of_chunk = self.fed
        self.fed += len(data)
        self.last_read = time.monotonic()
        self.ever_read = True
        if self.large is not None:
            self._add_large(data)
            return
        if not self.tail:
            self.tail_at = start_of_chunk
        self.tail.append(data)
        try:
            self.unpacker.feed(data)
        except msgpack.BufferFull:
            self.fail(TooLarge(f"more than {self.state.limits.max_buffer_bytes} bytes of "
                               "unanswered request data buffered (limits.max_buffer_bytes)"),
                      None)
            return
        self.process(data, start_of_chunk)

    def process(self, data: bytes, start_of_chunk: int) -> None:
        """Answer the complete messages buffered; note where an incomplete one begins."""
        if self.closed or self.session.blocked:
            return
        limits = self.state.limits
        if not self._serve(self.unpacker, self.tell, data, start_of_chunk) or self.closed:
            return
        pending = self.fed - self.boundary
        if pending <= 0:
            self.partial_since = None
            self.head, self.head_at = b"", -1
            self.tail.clear()
            return
        self._capture_head(data, start_of_chunk, self.boundary)
        self._trim_tail()
        if self.session.blocked:
            return
        if self.partial_since is None:
            self.partial_since = time.monotonic()
        if pending > limits.max_message_bytes:
            self.fail(TooLarge(f"message larger than limits.max_message_bytes = "
                               f"{limits.max_message_bytes}"), self._head_msgid())
        elif pending > LARGE_FRAME_BYTES:
            # one incomplete message (every complete one was answered): decode it off the loop
            self.large = LargeFrame(self.boundary, self.tail, self.decoding(),
                                    self._large_done)
            self.unpacker = self.new_unpacker()  # frees the old buffer; fed again after
            self.tail = []

    def _serve(self, messages: Iterator[Any], tell: Callable[[], int], data: bytes = b"",
               start_of_chunk: int = -1) -> bool:
        """Answer what `messages` yields (answers of one read in one write); False when
        the stream broke there (then answered and closed)."""
        self.batch = []
        try:
            self.boundary = self.state.dispatcher.serve(self.session, messages, tell,
                                                        self.batch, self.flush, self.boundary)
        except FrameError as exc:
            self._capture_head(data, start_of_chunk, exc.boundary)
            self._broken(exc.cause)
            return False
        finally:
            if self.batch is not None:
                self.flush()
            self.batch = None
        return True

    def _trim_tail(self) -> None:
        """Drop the chunks (and the part of the first) before `boundary`."""
        tail, boundary = self.tail, self.boundary
        drop = 0
        while drop < len(tail) and self.tail_at + len(tail[drop]) <= boundary:
            self.tail_at += len(tail[drop])
            drop += 1
        if drop:
            del tail[:drop]
        if tail and self.tail_at < boundary:
            tail[0] = tail[0][boundary - self.tail_at:]
            self.tail_at = boundary

    def _add_large(self, data: bytes) -> None:
        assert self.large is not None
        large = self.large
        if self.fed - large.start > self.state.limits.max_message_bytes:
            self.fail(TooLarge(f"message larger than limits.max_message_bytes = "
                               f"{self.state.limits.max_message_bytes}"), self._head_msgid())
            return
        large.add(data)

    def _large_done(self, large: LargeFrame, message: Any, error: BaseException | None) -> None:
        """The large frame decoded (on the loop): answer it, then go on with what follows."""
        self.large = None
        if self.closed:
            return
        if error is not None:
            self._broken(error)
            return
        if not self._serve(iter((message,)), lambda: large.end):
            return
        rest = large.rest()
        self.head, self.head_at, self.partial_since = b"", -1, None
        # a fresh decoder for what follows; its offsets count from the frame's end
        unpacker = self.unpacker = self.new_unpacker()
        base = large.end
        self.tell = lambda: base + unpacker.tell()
        if rest and not self.closed:
            self.tail, self.tail_at = [rest], base
            unpacker.feed(rest)  # at most what arrived during the decode
            self.process(rest, base)

    def _broken(self, cause: BaseException) -> None:
        """Answer why the stream could not be decoded, naming the msgid when readable."""
        limits = self.state.limits
        msgid = self._head_msgid()
        if "exceeds max" in str(cause):
            self.fail(TooLarge(f"message larger than limits.max_message_bytes = "
                               f"{limits.max_message_bytes}: {cause}"), msgid)
        elif isinstance(cause, msgpack.BufferFull):
            self.fail(TooLarge(f"more than {limits.max_buffer_bytes} bytes of unanswered "
                               "request data buffered (limits.max_buffer_bytes)"), msgid)
        elif isinstance(cause, UnicodeDecodeError):
            self.fail(ParseError(f"a string is not valid UTF-8 ({cause.reason} at byte "
                                 f"{cause.start}); send bytes as msgpack bin"), msgid)
        else:
            self.fail(ParseError(f"not a msgpack stream: {cause}"), msgid)

    def _capture_head(self, data: bytes, start_of_chunk: int, boundary: int) -> None:
        """Keep the first bytes of the message starting at `boundary` (to name its msgid)."""
        if start_of_chunk <= boundary < start_of_chunk + len(data):
            offset = boundary - start_of_chunk
            self.head, self.head_at = data[offset:offset + HEAD_BYTES], boundary
        elif self.head_at == boundary and len(self.head) < HEAD_BYTES \
                and self.head_at + len(self.head) == start_of_chunk:
            self.head += data[: HEAD_BYTES - len(self.head)]
        elif self.head_at != boundary:
            self.head, self.head_at = b"", -1

    def _head_msgid(self) -> int | None:
        """The msgid of the message being received, read from its first bytes."""
        try:
            up = msgpack.Unpacker(raw=True)
            up.feed(self.head)
            if up.read_array_header() >= 2 and up.unpack() == REQUEST:
                msgid = up.unpack()
                return msgid if type(msgid) is int and 0 <= msgid < 2**32 else None
        except Exception:
            return None
        return None

    # -- bounds checked by the server's sweep ----------------------------------------
    def check_bounds(self, now: float) -> None:
        """Close this connection when it broke a time or write bound (called every second)."""
        limits = self.state.limits
        if self.closed or self.transport is None:
            return
        if self.partial_since is not None and now - self.partial_since > \
                limits.idle_partial_timeout_s:
            self.state.log.info("closing a connection stalled mid-message for %.0f s",
                                now - self.partial_since)
            self.fail(InvalidRequest(f"incomplete message for more than "
                                     f"{limits.idle_partial_timeout_s:g} s "
                                     "(limits.idle_partial_timeout_s)"), self._head_msgid())
            return
        unsent = self.transport.get_write_buffer_size()
        if unsent > limits.max_unsent_bytes and unsent >= self.unsent_seen > 0:
            self.state.log.warning("closing a connection that does not read its answers: "
                                   "%d bytes unsent (limits.max_unsent_bytes = %d)", unsent,
                                   limits.max_unsent_bytes)
            self.close()
            return
        if unsent < self.unsent_seen:
            self.last_drained = now
        self.unsent_seen = unsent
        quiet = now - (self.last_read if unsent == 0 else max(self.last_read, self.last_drained))
        if not self.session.inflight and self.partial_since is None and \
                quiet > limits.idle_timeout_s:
            self.state.log.info("closing a connection idle for %.0f s (limits.idle_timeout_s)%s",
                                quiet, "; it did not read its answers" if unsent else "")
            self.close()

"""Fuzz every method from its published schema (`system.hello`), every plugin loaded.

Params are drawn per declared type, with the values that broke daemons before:
huge numbers and strings, NaN and infinities, NUL bytes, strings that are not
UTF-8, maps with array keys, wrong types and unknown names. Every answer must
carry a documented code other than -32603 (or be a result), the daemon must
stay within its memory budget, and `system.ping` must answer throughout.
"""

from __future__ import annotations

import math
import os
import socket
import time
from typing import Any

import msgpack
import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalytic.client import Client

DOCUMENTED = {-32700, -32600, -32601, -32602, -32000, -32001, -32002, -32003, -32004}
SKIP = {"system.shutdown", "system.reload", "example.fail"}
"""The first two stop or reconfigure the daemon under test; `example.fail` answers with
whatever code it is asked for."""
BUDGET = 512 << 20
_pack = msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape").pack
"""Strings with lone surrogates ("\\udcff") go out as the invalid UTF-8 bytes they stand for."""

HUGE_INTS = [2**31, 2**32, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1]
ODD_FLOATS = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0]
ODD_STRS = ["", "a\x00b", "\x00", "/tmp/x\x00y", "\udcff\udcfe", "ok\udc80", "..", "../../etc",
            "/etc/passwd", "x" * 100_000, "[" * 5000, "é" * 1000]

scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
           | st.floats(allow_nan=True) | st.text(max_size=12) | st.binary(max_size=24)
           | st.sampled_from(HUGE_INTS + ODD_FLOATS + ODD_STRS))
odd_keys = (st.tuples(st.integers(0, 3), st.integers(0, 3)) | st.integers(-(2**63), 2**63 - 1)
            | st.text(max_size=4))
anything = st.recursive(
    scalars, lambda kids: st.lists(kids, max_size=4)
    | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    | st.dictionaries(odd_keys, kids, max_size=2), max_leaves=8)


def typed(p: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the param's declared type, edges included."""
    kind = p["type"]
    lo, hi = p.get("min"), p.get("max")
    if p.get("choices"):
        return st.sampled_from(p["choices"]) | st.sampled_from(ODD_STRS)
    if kind == "int":
        bounded = st.integers(int(lo) if lo is not None else -(2**63),
                              int(hi) if hi is not None else 2**64 - 1)
        return bounded | st.sampled_from(HUGE_INTS)
    if kind in ("float", "number"):
        return st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(ODD_FLOATS)
    if kind == "str":
        return st.text(max_size=30) | st.sampled_from(ODD_STRS)
    if kind == "bin":
        return st.binary(max_size=64) | st.just(b"\x00" * 200_000)
    if kind == "bool":
        return st.booleans()
    if kind == "list":
        item = typed({"type": p.get("items") or "any"})
        return st.lists(item, max_size=6) | st.lists(anything, max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=8), anything, max_size=4) | \
            st.dictionaries(odd_keys, anything, max_size=2)
    return anything


@st.composite
def calls(draw: st.DrawFn, methods: dict[str, Any]) -> tuple[str, dict[Any, Any]]:
    name = draw(st.sampled_from(sorted(methods)))
    params: dict[Any, Any] = {}
    for p in methods[name]["params"]:
        roll = draw(st.integers(0, 9))
        if roll == 0 and not p["required"]:
            continue  # left out
        params[p["name"]] = draw(anything if roll == 1 else typed(p))
    if draw(st.integers(0, 9)) == 0:
        params[draw(odd_keys | st.sampled_from(["extra", "\x00", "\udcff"]))] = draw(scalars)
    return name, params


def _answer(path: str, name: str, params: dict[Any, Any]) -> Any:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(path)
    try:
        try:
            sock.sendall(_pack([0, 1, name, [{**params, "deadline_ms": 3000}]]))
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it was all sent (a parse error closes the stream): read why
        up = msgpack.Unpacker(raw=False, strict_map_key=False, unicode_errors="replace")
        while True:
            chunk = sock.recv(1 << 20)
            assert chunk, f"{name} closed the connection without an answer"
            up.feed(chunk)
            for msg in up:
                if msg[0] == 1:
                    return msg
    finally:
        sock.close()


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from daemon_process import DaemonProcess

    root = tmp_path_factory.mktemp("fuzz")
    d = DaemonProcess({"daemon": {"memory_budget": BUDGET},
                       "testrun": {"allowed_roots": [str(root)]}}).start()
    with d.client() as c:
        methods = {k: v for k, v in c.call("system.hello")["methods"].items() if k not in SKIP}
    yield d, methods
    d.cleanup()


def test_every_method_answers_documented_codes(fuzz_target: Any) -> None:
    d, methods = fuzz_target
    ping = Client(d.socket)
    worst: list[float] = []

    @settings(max_examples=int(os.environ.get("CATALYTIC_FUZZ_EXAMPLES", "300")), deadline=None,
              database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(call=calls(methods))
    def one(call: tuple[str, dict[Any, Any]]) -> None:
        name, params = call
        msg = _answer(str(d.socket), name, params)
        error = msg[2]
        if error is not None:
            code = error["code"]
            assert code != -32603, f"{name}({params!r:.300}) -> {error['message']}"
            assert code in DOCUMENTED or code <= -33000, f"{name}: undocumented code {code}"
        started = time.perf_counter()
        assert ping.call("system.ping", payload=1, timeout=10) == 1
        worst.append(time.perf_counter() - started)

    one()
    rss = psutil.Process(d.pid).memory_info().rss
    assert d.running() and rss < BUDGET + (100 << 20), f"RSS {rss / 2**20:.0f} MiB"
    assert max(worst) < 5.0

"""W-TinyLFU's compiled replay (numba) leaves exactly the state its reference, `access`,
leaves, and `access` alone (the fallback where numba cannot run) matches libCacheSim."""

from __future__ import annotations

import random
import subprocess
import sys
from itertools import pairwise
from typing import Any

import pytest
from ws_helpers import DATA, lcs_hits

from catalytic.plugins.workspace.policies import wtinylfu
from catalytic.plugins.workspace.policies import wtinylfu_kernel as kern
from catalytic.plugins.workspace.policies.sketch import DEPTH, LIBCACHESIM_HASHES
from catalytic.plugins.workspace.policies.wtinylfu import WTinyLFU
from catalytic.plugins.workspace.traces import read_trace


@pytest.fixture
def kernel_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Send every replay of 1+ requests to the kernel, counting the calls it gets."""
    calls: list[int] = []
    real = kern.replay

    def counted(ids: Any, *rest: Any) -> int:
        calls.append(len(ids))
        return int(real(ids, *rest))

    monkeypatch.setattr(kern, "replay", counted)
    monkeypatch.setattr(wtinylfu, "COMPILED_MIN", 1)
    return calls


def _same_state(fast: WTinyLFU, slow: WTinyLFU) -> None:
    for seg in ("window", "probation", "protected"):
        assert list(getattr(fast, seg)) == list(getattr(slow, seg)), seg
    assert fast.sketch.table == slow.sketch.table
    assert fast.sketch.hits == slow.sketch.hits
    assert (fast.used, fast.window_used, fast.probation_used, fast.protected_used) == \
        (slow.used, slow.window_used, slow.probation_used, slow.protected_used)


def _keys(seed: int, n: int) -> list[int]:
    """Skewed keys with a uniform share, some negative (hashed as their two's complement)."""
    rng = random.Random(seed)
    return [rng.randrange(-3000, 6000) if rng.random() < 0.3 else int(rng.paretovariate(0.9))
            for _ in range(n)]


@pytest.mark.parametrize("hashes", [LIBCACHESIM_HASHES, DEPTH])
def test_compiled_replay_is_access_step_for_step(kernel_calls: list[int], hashes: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls alternate between the kernel and `access` on one warm cache, with
    several halvings of the sketch: every call's hits and the final state agree."""
    keys = _keys(3, 40_000)
    fast, slow = WTinyLFU(400, hashes=hashes), WTinyLFU(400, hashes=hashes)
    fast.sketch.sample = slow.sketch.sample = 997
    cuts = [0, 12_000, 12_500, 25_000, 26_000, 40_000]
    for i, (a, b) in enumerate(pairwise(cuts)):
        monkeypatch.setattr(wtinylfu, "COMPILED_MIN", 1 if i % 2 == 0 else 1 << 30)
        assert fast.replay(keys[a:b]) == sum(slow.access(k) for k in keys[a:b]), (a, b)
        _same_state(fast, slow)
    assert kernel_calls == [12_000, 12_500, 14_000]


def test_compiled_replay_carries_adopted_keys(kernel_calls: list[int]) -> None:
    """Keys adopted from another policy were never hashed by this one; the kernel hashes
    every resident key with the trace's."""
    fast, slow = WTinyLFU(300), WTinyLFU(300)
    keys = _keys(4, 20_000)
    newcomers = list(range(10**12, 10**12 + 150))
    for pol in (fast, slow):
        for k in keys[:100]:  # leaves room in the cache
            pol.access(k)
        pol.adopt(newcomers, dict.fromkeys(newcomers, 1))
    assert sum(k in fast for k in newcomers) >= 100
    assert fast.replay(keys[100:]) == sum(slow.access(k) for k in keys[100:])
    _same_state(fast, slow)
    assert kernel_calls == [19_900]


@pytest.mark.parametrize("keys", [
    [f"k{i % 700}" for i in range(5000)],  # strings: hashed through `hash` one at a time
    [(1 << 64) + i % 700 for i in range(5000)],  # beyond 64 bits
])
def test_keys_the_kernel_cannot_take_replay_through_access(kernel_calls: list[int],
                                                      keys: list[Any]) -> None:
    fast, slow = WTinyLFU(300), WTinyLFU(300)
    assert fast.replay(keys) == sum(slow.access(k) for k in keys)
    _same_state(fast, slow)
    assert kernel_calls == []


def test_an_eviction_listener_replays_through_access(kernel_calls: list[int]) -> None:
    pol, evicted = WTinyLFU(300), []
    pol.on_evict = evicted.append
    pol.replay(_keys(5, 5000))
    assert evicted and kernel_calls == []


@pytest.mark.parametrize("capacity", [137, 900])
def test_access_alone_matches_libcachesim(monkeypatch: pytest.MonkeyPatch,
                                         capacity: int) -> None:
    """The conformance tests replay long traces through the kernel; this one keeps the
    reference (short calls, as `auto` makes, and the fallback) honest against libCacheSim."""
    lcs = pytest.importorskip("libcachesim")
    monkeypatch.setattr(wtinylfu, "COMPILED_MIN", 1 << 30)
    keys = read_trace(DATA / "web07-20k.trace.xz", fmt="i32")
    assert WTinyLFU(capacity).replay(keys) == lcs_hits(lcs, "wtinylfu", keys, capacity)


_UNDER_WX = """
import ctypes, sys
if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE
    sys.exit(3)
from catalytic.plugins.workspace.policies import wtinylfu
keys = [(i * 7919) % 5000 for i in range(40_000)]
print(wtinylfu.WTinyLFU(300).replay(keys), wtinylfu._KERNEL_MISSING)
"""


def test_without_executable_memory_access_replays() -> None:
    """Under W^X (systemd's MemoryDenyWriteExecute) numba cannot load: a long replay falls
    back to `access`, with a warning, and gives the same hits."""
    out = subprocess.run([sys.executable, "-c", _UNDER_WX], capture_output=True, text=True,
                         timeout=120)
    if out.returncode == 3:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3+) to deny executable memory")
    assert out.returncode == 0, out.stderr
    keys = [(i * 7919) % 5000 for i in range(40_000)]
    assert out.stdout.split() == [str(WTinyLFU(300).replay(keys)), "True"]
    assert "numba is unusable" in out.stderr

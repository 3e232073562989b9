"""`auto`: the adaptive policy. It runs miniature shadow caches of every
candidate policy on a spatially sampled subset of keys (SHARDS, Waldspurger et
al., FAST '15: a key is sampled when its hash falls under a threshold, and each
shadow's capacity is scaled by the same rate), scores them on a decaying recent
window, and switches the live cache to the winner, carrying the resident set.

With a sampling rate R the shadows see R of the requests, so their cost is
about R × (number of candidates) of the live cache's (a few percent at R = 1%).
Small caches use a higher rate so each shadow still holds `min_shadow` objects;
at R = 1 the shadows are full size, so the live cache simply *is* the winning
shadow and a switch costs nothing. A switch needs the winner to lead by
`margin` (relative) at `patience` decisions in a row, since every carried-over
switch loses the old policy's history (ghosts, counts) — softened by replaying
the last 2 × capacity requests into the new policy before the resident set is
carried over (for unit-size entries; only really resident keys stay). Each switch is judged
afterwards (sampled hits of the new policy minus the one it replaced): when a
switch did not pay, the patience doubles, so a trace whose phases flip faster
than the window cannot make `auto` chase its own tail; and when following recent
winners has earned fewer sampled hits than the long-run leader would have (by
more than `slack`), `auto` follows the long-run leader.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np

from .policies import make
from .policies.base import Key, Policy

_M = (1 << 64) - 1
_GOLD = 0x9E3779B97F4A7C15
CANDIDATES = ("lru", "arc", "s3fifo", "sieve", "wtinylfu")
"""LFU is left out: it never led by a meaningful margin in the benchmark, and costs."""


class Adaptive(Policy):
    name = "auto"

    def __init__(self, capacity: int, candidates: Iterable[str] = CANDIDATES,
                 start: str = "s3fifo", min_shadow: int = 1000, min_rate: float = 0.01,
                 epoch: int | None = None, decay: float | None = None, margin: float = 0.02,
                 patience: int = 2, slack: float = 0.003, warm_switch: bool = True,
                 sized: bool = False, mean_size: int = 4096, z: float = 1.0) -> None:
        super().__init__(capacity)
        self.candidates = tuple(candidates)
        self.sized = sized
        """Entries have byte sizes: capacity is bytes, sampling follows the object count."""
        self.min_shadow, self.min_rate = min_shadow, min_rate
        self._epoch_arg, self._decay_arg = epoch, decay
        self.margin = margin
        self.z = z
        """A lead must also exceed z × its sampling noise (√ of the scores): few sampled
        hits (small shadows, low hit ratios) then need a larger relative lead."""
        self.patience = self.base_patience = patience
        self.slack = slack
        self.current = start
        self.switches = 0
        self.mirror = False
        self.history: deque[Key] = deque(
            maxlen=min(8 * capacity, 1 << 20) if warm_switch and not sized else 0)
        """Recent requests (unit sizes only), replayed into a new live policy so it
        starts with history."""
        self.objects = capacity if not sized else max(1, capacity // max(1, mean_size))
        """Objects the cache holds (estimated from the resident mean size when sized)."""
        self._since_check = 0
        self._configure(first=True)

    def _configure(self, first: bool = False) -> None:
        """(Re)build the shadows for a cache of about `self.objects` objects: sampling rate
        R = min_shadow / objects (at least min_rate, at most 1), each shadow R × capacity."""
        objects = self.objects
        self.rate = min(1.0, max(self.min_rate, self.min_shadow / objects))
        self._threshold = int(self.rate * (1 << 24))
        shadow_cap = max(1, round(self.capacity * self.rate))
        shadow_objects = max(1, round(objects * self.rate))
        self.mirror = self._threshold >= 1 << 24
        self.shadows: dict[str, Policy] = {n: make(n, shadow_cap, self.sized)
                                           for n in self.candidates}
        if first:
            self.live: Policy = self.shadows[self.current] if self.mirror else \
                make(self.current, self.capacity, self.sized)
            self.live.on_evict = self._evicted
        elif self.mirror:  # the live cache becomes its own shadow (full size at R = 1)
            self.shadows[self.current] = self.live
        self.scores = dict.fromkeys(self.shadows, 0.0)
        self.totals = dict.fromkeys(self.shadows, 0)
        self.realized = 0
        """Sampled hits of whichever shadow was live at the time (what following paid)."""
        self._epoch_hits = dict.fromkeys(self.shadows, 0)
        self._set_pace(shadow_objects)
        self._previous: str | None = None
        self._gain = 0
        self._streak = 0
        self._sampled = 0
        self._warm = 0

    def _set_pace(self, shadow_objects: int) -> None:
        # mirrored shadows switch for free, so they can decide often
        self.epoch = self._epoch_arg or (max(500, shadow_objects) if self.mirror
                                         else max(1000, 2 * shadow_objects))
        """Sampled requests between two decisions."""
        # a decision weighs older epochs by `decay`; mirrored shadows react faster
        self.decay = self._decay_arg if self._decay_arg is not None else \
            (0.5 if self.mirror else 0.75)
        self.warmup = shadow_objects if self.mirror else 2 * shadow_objects
        """Sampled requests before the first decision (shadows must fill first)."""

    def _check_objects(self) -> None:
        """Sized mode: re-estimate the object count from the live cache's mean entry size;
        rebuild the shadows when that moves the sampling rate by 2× or more."""
        live = self.live
        if not self.sized or not len(live) or live.used < self.capacity // 2:
            return
        objects = max(1, round(len(live) * self.capacity / live.used))
        rate = min(1.0, max(self.min_rate, self.min_shadow / objects))
        if rate >= 2 * self.rate or rate <= self.rate / 2:
            self.objects = objects
            self._configure()
        elif objects >= 2 * self.objects or objects <= self.objects // 2:
            self.objects = objects
            self._set_pace(max(1, round(objects * self.rate)))

    def _sample(self, key: Key, size: int) -> bool:
        """Feed a sampled request to every shadow; return the live shadow's answer."""
        hits, current = self._epoch_hits, self.current
        live_hit = False
        for name, shadow in self.shadows.items():
            if shadow.access(key, size):
                hits[name] += 1
                if name == current:
                    live_hit = True
        self._sampled += 1
        if self._sampled >= self.epoch:
            self._decide()
        return live_hit

    def _decide(self) -> None:
        if self.sized:
            self._check_objects()
        self._warm += self._sampled
        self._sampled = 0
        scores, hits, totals = self.scores, self._epoch_hits, self.totals
        self.realized += hits[self.current]
        if self._previous is not None:
            self._gain += hits[self.current] - hits[self._previous]
        for name in scores:
            scores[name] = scores[name] * self.decay + hits[name]
            totals[name] += hits[name]
            hits[name] = 0
        if self._warm < self.warmup:
            return
        best = max(scores, key=scores.__getitem__)
        leader = max(totals, key=totals.__getitem__)
        cur = scores[self.current]
        lead = max(cur * (1 + self.margin), cur + self.z * (2 * cur) ** 0.5)
        if leader != self.current and self.realized + self.slack * self._warm < totals[leader] \
                and scores[leader] > lead and self._pays(leader):
            # chasing recent winners has earned less than the long-run leader would have, and
            # it leads now too: go with it at once (a long streak of noisy leads may not come)
            self._streak = 0
            self.patience = min(self.patience * 2, 64)
            self._previous, self._gain = self.current, 0
            self.switch(leader)
            return
        if best != self.current and scores[best] > lead and self._pays(best):
            self._streak += 1
            if self._streak >= self.patience:
                self._streak = 0
                # did the last switch pay? if not, demand a longer lead next time
                if self._gain < 0:
                    self.patience = min(self.patience * 2, 64)
                else:
                    self.patience = max(self.base_patience, self.patience // 2)
                self._previous, self._gain = self.current, 0
                self.switch(best)
        else:
            self._streak = 0

    def _pays(self, name: str) -> bool:
        """Whether switching to `name` is expected to pay. A carried-over switch costs about
        a cache's worth of misses while the new policy learns (ghosts, counts); expect the
        recent lead to hold for as long again as the trace has run so far, and switch only
        if that wins more. Mirrored shadows switch for free."""
        if self.mirror:
            return True
        window = self.epoch / (1 - self.decay)  # sampled requests the scores cover
        lead = (self.scores[name] - self.scores[self.current]) / window  # hit-ratio gain
        return lead * self._warm >= self.objects * self.rate  # in sampled units

    def _steady(self) -> bool:
        """Whether recent requests still describe the workload: the live policy's recent
        sampled hit ratio is within 10% of its long-run one (after a shift, counts learnt
        from the history would make the carried keys hard to displace)."""
        cur = self.current
        if not self._warm:
            return False
        recent = self.scores[cur] * (1 - self.decay) / self.epoch
        return recent >= 0.9 * self.totals[cur] / self._warm

    def switch(self, name: str) -> None:
        """Make `name` the live policy, carrying the resident keys (coldest first)."""
        old = self.live
        sizes = old.sizes()
        old.on_evict = None
        if self.mirror:
            new = self.shadows[name]
        else:
            new = make(name, self.capacity, self.sized)
            if self.history and new.warm_from_history and old.used == len(sizes):
                new.replay(self.history)  # unit sizes: warm it on recent requests
                for key in [k for k in new.resident() if k not in sizes]:
                    new.remove(key)  # only what is really resident may stay
            history = self.history if not new.warm_from_history and self._steady() else ()
            new.adopt([k for k in old.resident() if k not in new], sizes, history)
        self.live, self.current = new, name
        self.used = new.used
        new.on_evict = self._evicted
        for key in sizes:
            if key not in new:
                self._evicted(key)
        self.switches += 1

    def access(self, key: Key, size: int = 1) -> bool:
        if self.sized:
            self._since_check += 1
            if self._since_check >= 4096:
                self._since_check = 0
                self._check_objects()
        if self.mirror:
            hit = self._sample(key, size)
            self.used = self.live.used
            return hit
        if ((hash(key) * _GOLD) & _M) >> 40 < self._threshold:
            self._sample(key, size)
        self.history.append(key)
        hit = self.live.access(key, size)
        self.used = self.live.used
        return hit

    def _feed(self, sampled: list[Key]) -> int:
        """Replay sampled keys (size 1) through every shadow with their fast loops,
        cut at epoch boundaries; return the hits of whichever shadow was live."""
        live_hits, i, n = 0, 0, len(sampled)
        hits = self._epoch_hits
        while i < n:
            take = min(n - i, self.epoch - self._sampled)
            piece = sampled[i:i + take]
            current = self.current
            for name, shadow in self.shadows.items():
                got = shadow.replay(piece)
                hits[name] += got
                if name == current:
                    live_hits += got
            i += take
            self._sampled += take
            if self._sampled >= self.epoch:
                self._decide()
        return live_hits

    def _sampled_keys(self, part: list[Key]) -> list[Key]:
        """The keys of `part` that fall in the spatial sample (vectorised for int keys)."""
        try:
            arr = np.fromiter(part, dtype=np.int64, count=len(part))
        except (TypeError, ValueError, OverflowError):
            threshold = self._threshold
            return [k for k in part if ((hash(k) * _GOLD) & _M) >> 40 < threshold]
        if np.any(np.abs(arr) >= (1 << 61) - 1):  # hash(k) == k only below 2**61 - 1
            threshold = self._threshold
            return [k for k in part if ((hash(k) * _GOLD) & _M) >> 40 < threshold]
        with np.errstate(over="ignore"):
            h = (arr.view(np.uint64) * np.uint64(_GOLD)) >> np.uint64(40)
        return [part[i] for i in np.flatnonzero(h < self._threshold)]

    def replay(self, keys: Iterable[Key]) -> int:
        seq = keys if isinstance(keys, list) else list(keys)
        hits = 0
        if self.mirror:  # the live cache is a shadow: feeding the shadows serves it
            hits = self._feed(seq)
            self.used = self.live.used
            return hits
        # Live replay in chunks (its fast loop), then the chunk's sampled keys to the
        # shadows: a switch lands at most one chunk after the decision that asked for it.
        for start in range(0, len(seq), 4096):
            part = seq[start:start + 4096]
            hits += self.live.replay(part)
            self.history.extend(part)
            self._feed(self._sampled_keys(part))
        self.used = self.live.used
        return hits

    def remove(self, key: Key) -> bool:
        done = self.live.remove(key)
        self.used = self.live.used
        return done

    def __contains__(self, key: object) -> bool:
        return key in self.live

    def __len__(self) -> int:
        return len(self.live)

    def resident(self) -> list[Key]:
        return self.live.resident()

    def sizes(self) -> dict[Key, int]:
        return self.live.sizes()

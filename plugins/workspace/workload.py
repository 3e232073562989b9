"""A generated pipeline workload: tasks that read their artifacts in recurring
sequences, as autonomous pipelines do (a task reads its spec, then its inputs,
then earlier outputs), with some artifacts shared between tasks and some noise.

Deterministic from `seed`. Sizes and contents are derived from the key, so a
benchmark can compress real bytes without storing them.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class PipelineSpec:
    tasks: int = 300
    min_len: int = 4
    max_len: int = 12
    runs: int = 15_000
    alpha: float = 0.8
    """Zipf skew of how often each task runs."""
    shared: int = 30
    shared_prob: float = 0.1
    noise: float = 0.03
    """Chance of a one-off read (logs, scratch files) after each step."""
    seed: int = 0


def pipeline_keys(spec: PipelineSpec = PipelineSpec()) -> list[str]:
    """The request stream of `spec.runs` task runs."""
    rng = random.Random(spec.seed)
    tasks: list[list[str]] = []
    for t in range(spec.tasks):
        seq = [f"task{t}/step{i}" for i in range(rng.randint(spec.min_len, spec.max_len))]
        for i in range(1, len(seq)):
            if rng.random() < spec.shared_prob:
                seq[i] = f"shared/{rng.randrange(spec.shared)}"
        tasks.append(seq)
    weights = [1.0 / (r + 1) ** spec.alpha for r in range(spec.tasks)]
    order = rng.choices(range(spec.tasks), weights=weights, k=spec.runs)
    keys: list[str] = []
    for t in order:
        for k in tasks[t]:
            keys.append(k)
            if rng.random() < spec.noise:
                keys.append(f"scratch/{rng.randrange(1 << 40)}")
    return keys


_WORDS = ("task", "input", "output", "status", "passed", "failed", "module", "function",
          "result", "score", "model", "answer", "error", "line", "value", "config", "step")


def artifact_bytes(key: str) -> bytes:
    """Deterministic, realistically compressible content (JSON-ish text) for `key`."""
    seed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
    rng = random.Random(seed)
    size = int(min(256_000, max(512, rng.lognormvariate(9.0, 1.0))))  # median ≈ 8 KiB
    parts: list[str] = []
    n = 0
    while n < size:
        w = rng.choice(_WORDS)
        s = f'{{"{w}": "{w}-{rng.randrange(1000)}", "n": {rng.randrange(100000)}}},\n'
        parts.append(s)
        n += len(s)
    return "".join(parts).encode()[:size]

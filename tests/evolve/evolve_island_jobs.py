"""An evaluator for the island fan-out test: the first island to call it fails, the
others leave one marker file per generation and take their time."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from catalytic.plugins.evolve.islands import Evaluator


@dataclass(frozen=True)
class FirstCallerFails(Evaluator):
    folder: str = ""
    pause_s: float = 0.05

    def __call__(self, X: np.ndarray) -> np.ndarray:
        ticket = Path(self.folder, "fail")
        try:
            os.rename(ticket, ticket.with_suffix(".taken"))  # atomic: one caller only
        except FileNotFoundError:
            Path(self.folder, f"gen-{os.getpid()}-{time.monotonic_ns()}").touch()
            time.sleep(self.pause_s)
            return super().__call__(X)
        raise RuntimeError("this island's evaluation failed")

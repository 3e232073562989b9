"""Event-loop lag: how late a callback scheduled `interval` seconds ahead actually runs.

A late callback means something blocked the loop (CPU work inline, a blocking call);
it is the daemon's own health figure.
"""

from __future__ import annotations

import asyncio


class LagProbe:
    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._window: list[float] = []
        self.last_s = 0.0
        self.worst_s = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            scheduled = loop.time() + self.interval_s
            await asyncio.sleep(self.interval_s)
            lag = max(0.0, loop.time() - scheduled)
            self.last_s = lag
            self.worst_s = max(self.worst_s, lag)
            self._window.append(lag)

    def drain(self) -> tuple[float, float, int]:
        """(max, mean, n) of the lags since the previous drain, in seconds."""
        window, self._window = self._window, []
        if not window:
            return self.last_s, self.last_s, 0
        return max(window), sum(window) / len(window), len(window)

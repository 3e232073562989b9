"""Inside a worker: the project files it read before its tests run (imports, files opened
while pytest configured itself and collected).

Why: warm workers wait with the project imported and the suite collected; after an edit
they are still good when none of the files they read changed (a changed README or a
data file tests read as they run does not make them stale), so the daemon compares
this list with the files that changed instead of restarting on any change.
"""

from __future__ import annotations

import os
import sys
from typing import Any


class CollectReads:
    """An audit hook noting opened paths until `stop()`; then also the imported modules."""

    def __init__(self) -> None:
        self.on = True
        self.opened: set[str] = set()
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self.on and event == "open" and args and isinstance(args[0], (str, bytes)):
            self.opened.add(os.fsdecode(args[0]))

    def stop(self, root: str) -> list[str]:
        """Paths (relative to `root`) of the project files read so far; stops noting."""
        self.on = False
        paths = set(self.opened)
        for mod in list(sys.modules.values()):
            f = getattr(mod, "__file__", None)
            if isinstance(f, str):
                paths.add(f)
        top = os.path.realpath(root) + os.sep
        out = set()
        for p in paths:
            real = os.path.realpath(os.path.join(root, p))
            if real.startswith(top) and "__pycache__" not in real:
                out.add(os.path.relpath(real, top[:-1]))
        return sorted(out)

"""`python bench/mcp.py`: runs bench/mcp_overhead.py (MCP over stdio vs the client library).

This file shares the SDK's name, so it only clears its own folder from the
import path and hands over; the benchmark lives in mcp_overhead.py.
"""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
runpy.run_path(str(HERE / "mcp_overhead.py"), run_name="__main__")

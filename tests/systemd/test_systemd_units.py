"""`systemd-analyze verify` on the shipped units: any warning fails.

`verify` exits 0 on most warnings (an unknown key, a bad value), so the test
fails on any output at all. It also checks that ExecStart exists and is
executable: the units name the installed path (/usr/local/bin/catalyticd,
~/.local/bin/catalyticd), so the test verifies a copy whose ExecStart points
at the catalyticd of this environment, the same edit an install into a
virtualenv makes with a drop-in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from catalytic.config.model import CORE

UNITS = Path(__file__).resolve().parents[2] / "systemd"
ANALYZE = shutil.which("systemd-analyze")
CATALYTICD = Path(sys.executable).with_name("catalyticd")
GRACE_DEFAULT = next(s.default for s in CORE["daemon"] if s.key == "grace_seconds")

needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (Debian: apt-get install systemd)")


def render(src: Path, dest: Path) -> list[Path]:
    """Copy the .service/.socket pair of `src`, ExecStart pointing at this catalyticd."""
    dest.mkdir(parents=True)
    out = []
    for unit in ("catalytic.socket", "catalytic.service"):
        text = (src / unit).read_text()
        text = re.sub(r"^ExecStart=\S+", f"ExecStart={CATALYTICD}", text, flags=re.M)
        (dest / unit).write_text(text)
        out.append(dest / unit)
    return out


def verify(units: list[Path], user: bool, runtime: Path) -> str:
    assert ANALYZE is not None
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_PAGER": "",
           "SYSTEMD_LOG_COLOR": "0"}
    cmd = [ANALYZE, *(["--user"] if user else []), "verify", "--man=no",
           *map(str, units)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    return f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}".strip()


@pytest.fixture(scope="module")
def catalyticd() -> Path:
    if not os.access(CATALYTICD, os.X_OK):
        pytest.skip(f"catalyticd is not installed beside {sys.executable} (pip install -e .)")
    return CATALYTICD


@needs_analyze
@pytest.mark.parametrize("variant", ["system", "user"])
def test_units_verify_without_warnings(variant: str, tmp_path: Path, catalyticd: Path) -> None:
    src = UNITS if variant == "system" else UNITS / "user"
    units = render(src, tmp_path / "units")
    assert verify(units, variant == "user", tmp_path / "run") == "exit 0"


@needs_analyze
def test_verify_output_catches_a_broken_unit(tmp_path: Path, catalyticd: Path) -> None:
    """The check above is not vacuous: a bad value or an unknown key is reported."""
    units = render(UNITS, tmp_path / "units")
    service = units[1]
    service.write_text(service.read_text().replace("KillMode=mixed", "KillMode=mixd")
                       .replace("[Service]\n", "[Service]\nWatchdogSeconds=5\n"))
    report = verify(units, False, tmp_path / "run")
    assert "mixd" in report and "WatchdogSeconds" in report


def test_units_keep_their_contract() -> None:
    """What the daemon relies on: notify, socket path, state dir, the reload signal."""
    for src in (UNITS, UNITS / "user"):
        service = (src / "catalytic.service").read_text()
        socket_unit = (src / "catalytic.socket").read_text()
        for line in ("Type=notify", "NotifyAccess=main", "ExecReload=/bin/kill -HUP $MAINPID",
                     "Environment=CATALYTIC_SOCKET=%t/catalytic/catalytic.sock",
                     "StateDirectory=catalytic", "RuntimeDirectory=catalytic",
                     "RuntimeDirectoryPreserve=yes", "KillMode=mixed"):
            assert re.search(rf"^{re.escape(line)}$", service, re.M), (src, line)
        if src != UNITS:
            assert not re.search(r"^(User|Group)=", service, re.M), "user units run as the user"
        assert re.search(r"^ListenStream=%t/catalytic/catalytic.sock$", socket_unit, re.M)
        assert re.search(r"^SocketMode=0600$", socket_unit, re.M)
        assert re.search(r"^DirectoryMode=0700$", socket_unit, re.M)
        stop = re.search(r"^TimeoutStopSec=(\d+)$", service, re.M)
        assert stop is not None
        # Longer than daemon.grace_seconds plus the 5 s the daemon waits for cancelled calls.
        assert int(stop.group(1)) > GRACE_DEFAULT + 5


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None
                    or shutil.which("systemd-tmpfiles") is None,
                    reason="systemd-sysusers / systemd-tmpfiles are not installed")
@pytest.mark.skipif(os.geteuid() != 0, reason="creating an account in a temporary root and "
                    "chowning to it needs root")
def test_sysusers_and_tmpfiles_make_the_account_and_runtime_dir(tmp_path: Path) -> None:
    """The install steps of the system unit, applied to a temporary root."""
    (tmp_path / "etc").mkdir()
    for name in ("passwd", "group"):
        shutil.copy(f"/etc/{name}", tmp_path / "etc" / name)
    for tool, conf, args in (("systemd-sysusers", "catalytic.sysusers", []),
                             ("systemd-tmpfiles", "catalytic.tmpfiles", ["--create"])):
        proc = subprocess.run([tool, f"--root={tmp_path}", *args, str(UNITS / conf)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
    users = {line.split(":")[0]: line.split(":") for line in
             (tmp_path / "etc" / "passwd").read_text().splitlines()}
    assert "catalytic" in users
    uid, gid = int(users["catalytic"][2]), int(users["catalytic"][3])
    run_dir = (tmp_path / "run" / "catalytic").stat()
    assert (run_dir.st_uid, run_dir.st_gid) == (uid, gid)
    assert run_dir.st_mode & 0o777 == 0o700

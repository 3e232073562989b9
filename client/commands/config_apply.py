"""`catalytic config apply [PROPOSAL]`: install a proposed configuration into the user's file.

`tune.run` (`catalytic tune`) writes its proposal only inside the daemon's
state directory (`<state>/tune/proposal.toml`, the default here); the daemon never
writes the user's configuration. This command merges the proposal's settings into the
user config (comments and layout kept, by tomlkit), validates the result with
the daemon's settings model, keeps the previous file as `<name>.bak`, replaces
the file atomically and prints the diff. `--dry-run` prints the diff only.
Reload the daemon (`systemctl reload`, SIGHUP or a restart) to use it.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from catalytic.client.commands import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliContext
from catalytic.config.paths import state_dir, user_config_path

PROPOSAL = Path("tune") / "proposal.toml"
"""Where tune.run saves its proposal, under the daemon's state directory."""


def register(config_verbs: Any) -> None:
    """Add `apply` to the verbs of `catalytic config` (core.py makes that parser)."""
    a = config_verbs.add_parser("apply", help="merge a proposal (catalytic tune) into "
                                       "the user config: validated, a .bak kept, diff shown")
    a.add_argument("proposal", nargs="?", type=Path, default=None,
                   help=f"proposal file (default: <state dir>/{PROPOSAL})")
    a.add_argument("--config", dest="target", type=Path, default=None,
                   help="config file to change (default: the user config)")
    a.add_argument("--dry-run", action="store_true", help="print the diff, change nothing")
    a.set_defaults(func=run_apply, autostart=False)


def settings_schema() -> dict[str, Any]:
    """The daemon's settings model (imported here only, so the client library stays thin)."""
    from catalytic.config.model import installed_schema

    return dict(installed_schema())


def merged_text(current: str, proposal: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """`current` with the proposal's settings set (tables created as needed); what changed."""
    import tomlkit

    doc = tomlkit.parse(current)
    changed: dict[str, Any] = {}
    for section, table in proposal.items():
        if not isinstance(table, dict):
            raise ValueError(f"{section} = {table!r}: a proposal holds [section] tables only")
        if section not in doc:
            doc[section] = tomlkit.table()
        target = doc[section]
        for key, value in table.items():
            if target.get(key) != value:
                target[key] = value
                changed[f"{section}.{key}"] = value
    return tomlkit.dumps(doc), changed


def install(target: Path, text: str) -> Path | None:
    """Validate `text` as a config file, keep `<target>.bak`, replace `target` atomically."""
    from catalytic.config.load import load

    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".new")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        load(settings_schema(), Path(tmp), env={})  # ConfigError names key, value, allowed
        backup = None
        if target.exists():
            backup = target.with_name(f"{target.name}.bak")
            shutil.copy2(target, backup)
            os.chmod(tmp, target.stat().st_mode & 0o777)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return backup


def run_apply(args: argparse.Namespace, cli: CliContext) -> int:
    import tomllib

    from catalytic.config.load import ConfigError

    proposal_path: Path = args.proposal or state_dir() / PROPOSAL
    target: Path = args.target or user_config_path()
    try:
        proposal = tomllib.loads(proposal_path.read_text())
    except FileNotFoundError:
        cli.err.print(f"no proposal at {proposal_path} (`catalytic tune` writes one)",
                      markup=False)
        return EXIT_USAGE
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        cli.err.print(f"cannot read the proposal {proposal_path}: {e}", markup=False)
        return EXIT_USAGE
    try:
        current = target.read_text() if target.exists() else ""
        text, changed = merged_text(current, proposal)
    except Exception as e:  # tomlkit's parse errors, a malformed proposal
        cli.err.print(f"cannot merge {proposal_path} into {target}: {e}", markup=False)
        return EXIT_ERROR
    diff = "".join(difflib.unified_diff(
        current.splitlines(keepends=True), text.splitlines(keepends=True),
        fromfile=str(target), tofile=f"{target} (with {proposal_path.name})"))
    backup = None
    if changed and not args.dry_run:
        try:
            backup = install(target, text)
        except ConfigError as e:
            cli.err.print(f"not applied, the result would not load: {e}", markup=False)
            return EXIT_ERROR
    result = {"config": str(target), "proposal": str(proposal_path), "changed": changed,
              "backup": str(backup) if backup else None, "diff": diff,
              "applied": bool(changed) and not args.dry_run}

    def human(con: Any) -> None:
        if not changed:
            con.print(f"{target} already has every proposed setting; nothing to do",
                      markup=False)
            return
        con.print(diff, markup=False, highlight=False, end="")
        if args.dry_run:
            con.print("dry run: nothing written", markup=False)
        else:
            con.print(f"written {target}" + (f" (previous file kept as {backup})"
                                             if backup else "")
                      + "; reload the daemon to use it", markup=False)
    cli.emit(result, human)
    return EXIT_OK

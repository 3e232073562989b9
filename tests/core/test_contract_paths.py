"""`PluginContext.resolve_path`: the one rule for paths a caller names (issue 15)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from catalytic.plugins.base import PluginContext
from catalytic.protocol.errors import Forbidden, InvalidParams


def make_ctx(tmp_path: Path, **config: Any) -> PluginContext:
    async def call(method: str, params: dict[str, Any]) -> Any:
        raise AssertionError("not used")

    return PluginContext(name="demo", config=config, state_dir=tmp_path / "state",
                         executor=None, metrics=None,  # type: ignore[arg-type]
                         log=logging.getLogger("test"), call=call)


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "a" / "b"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "doc.md").write_text("inside")
    sibling = tmp_path / "a" / "bc"
    sibling.mkdir()
    (sibling / "secret").write_text("outside")
    (root / "escape").symlink_to(sibling / "secret")
    (root / "inner-link").symlink_to(root / "sub" / "doc.md")
    return {"root": root, "sibling": sibling, "tmp": tmp_path}


def test_inside_paths_resolve(tmp_path: Path, tree: dict[str, Path]) -> None:
    ctx = make_ctx(tmp_path, roots=[str(tree["root"])])
    root = tree["root"].resolve()
    assert ctx.resolve_path(str(tree["root"] / "sub" / "doc.md"), "roots") == \
        root / "sub" / "doc.md"
    assert ctx.resolve_path(str(tree["root"]), "roots") == root  # the root itself
    assert ctx.resolve_path(str(tree["root"] / "sub" / ".." / "sub"), "roots") == root / "sub"
    assert ctx.resolve_path(str(tree["root"] / "inner-link"), "roots", must_exist=True) == \
        root / "sub" / "doc.md"
    # not existing yet, inside: fine without must_exist
    assert ctx.resolve_path(str(tree["root"] / "new.txt"), "roots") == root / "new.txt"


def test_symlink_escape_is_forbidden(tmp_path: Path, tree: dict[str, Path]) -> None:
    ctx = make_ctx(tmp_path, roots=[str(tree["root"])])
    with pytest.raises(Forbidden) as err:
        ctx.resolve_path(str(tree["root"] / "escape"), "roots")
    assert "demo.roots" in err.value.message
    assert "secret" not in err.value.message.replace(str(tree["root"] / "escape"), "")


def test_dotdot_and_prefix_trick(tmp_path: Path, tree: dict[str, Path]) -> None:
    ctx = make_ctx(tmp_path, roots=[str(tree["root"])])
    with pytest.raises(Forbidden):
        ctx.resolve_path(str(tree["root"] / ".." / "bc" / "secret"), "roots")
    with pytest.raises(Forbidden):  # /a/bc is not under /a/b
        ctx.resolve_path(str(tree["sibling"] / "secret"), "roots")
    with pytest.raises(Forbidden):
        ctx.resolve_path(str(tree["root"]) + "c", "roots")
    with pytest.raises(Forbidden):
        ctx.resolve_path("/", "roots")


def test_outside_never_reveals_existence(tmp_path: Path, tree: dict[str, Path]) -> None:
    ctx = make_ctx(tmp_path, roots=[str(tree["root"])])
    answers = []
    for name in ("secret", "no-such-file"):
        target = str(tree["sibling"] / name)
        with pytest.raises(Forbidden) as err:
            ctx.resolve_path(target, "roots", must_exist=True)
        answers.append((err.value.code, err.value.message.replace(target, "<p>"), err.value.data))
    assert answers[0] == answers[1]
    assert answers[0][0] == -32003


def test_bad_values_are_invalid_params(tmp_path: Path, tree: dict[str, Path]) -> None:
    ctx = make_ctx(tmp_path, roots=[str(tree["root"])])
    for bad in (str(tree["root"]) + "/x\x00y", "relative/path", "", 42, None, b"/abs"):
        with pytest.raises(InvalidParams) as err:
            ctx.resolve_path(bad, "roots")  # type: ignore[arg-type]
        assert err.value.code == -32602


def test_must_exist_inside_names_the_path(tmp_path: Path, tree: dict[str, Path]) -> None:
    ctx = make_ctx(tmp_path, roots=[str(tree["root"])])
    missing = str(tree["root"] / "missing.md")
    with pytest.raises(InvalidParams) as err:
        ctx.resolve_path(missing, "roots", must_exist=True)
    assert missing in err.value.message


def test_roots_are_resolved_and_several(tmp_path: Path, tree: dict[str, Path]) -> None:
    link = tmp_path / "root-link"
    link.symlink_to(tree["root"])
    other = tmp_path / "other"
    other.mkdir()
    ctx = make_ctx(tmp_path, roots=[str(link), str(other)])
    assert ctx.resolve_path(str(tree["root"] / "sub"), "roots") == tree["root"].resolve() / "sub"
    assert ctx.resolve_path(str(other / "f"), "roots") == other.resolve() / "f"
    home_ctx = make_ctx(tmp_path, roots=["~"])
    home = Path(os.path.expanduser("~")).resolve()
    assert home_ctx.resolve_path(str(home), "roots") == home


def test_symlink_loop_is_refused(tmp_path: Path, tree: dict[str, Path]) -> None:
    loop = tree["root"] / "loop"
    loop.symlink_to(loop)
    ctx = make_ctx(tmp_path, roots=[str(tree["root"])])
    with pytest.raises((Forbidden, InvalidParams)):
        ctx.resolve_path(str(loop / "x"), "roots", must_exist=True)


def test_unknown_setting_is_a_programming_error(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, roots=["/"], name="x")
    with pytest.raises(KeyError):
        ctx.resolve_path("/etc", "name")

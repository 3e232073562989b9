"""The records that flow between the decomposer, the memo and the assembler.

A section's result is position-independent (IDs relative to the section, lines
relative to its first line), so one memo entry serves the same text wherever
it sits in any document. Tuples, so they pickle small and hash cheaply.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol


class Local(NamedTuple):
    """A task as one section sees it."""

    lid: str
    """ID relative to the section: "" is the section's heading task."""
    parent: str | None
    """Local ID of the parent task inside the section ("" = heading task)."""
    title: str
    description: str
    lines: tuple[int, int]
    """0-based first and last line, relative to the section's first line."""
    priority: str | None
    """Explicit priority, or None to inherit from the nearest ancestor."""
    kind: str
    """"" for a heading task: epic or feature is decided by depth when assembling."""
    complexity: int
    reasons: tuple[str, ...]
    ids: tuple[str, ...]
    """Requirement / task IDs the task declares (FR-001, T003, 1.2)."""
    deps: tuple[str, ...]
    """Unresolved references: local:<lid>, child:<n>, id:<ID>, anchor:<a>, name:<slug>, num:<n>."""
    mentions: tuple[str, ...]
    acceptance: tuple[str, ...]
    test: str
    checked: bool | None
    """Checkbox state in the document, None when the task had no checkbox."""
    digest: str
    """Hash of the task's own text, to re-match a task whose ID changed."""
    name: str
    """Slug of the title's leading name, for references such as `depends on [name]`."""
    outline: str = ""
    """Outline number the task has in the document (`a.2`, `2.3.1`), lower case, or ""."""


class Summary(NamedTuple):
    """All a parent section may read of a child (so unchanged summaries cut recomputation off)."""

    slug: str
    title: str
    info: bool
    tasks: int
    criteria: tuple[str, ...]
    test: str
    phase: int | None
    anchor: str
    """The anchor a Markdown link to this heading uses (`#anchor`)."""


class SectionResult(NamedTuple):
    tasks: tuple[Local, ...]
    summary: Summary
    child_deps: tuple[tuple[int, int], ...]
    """(child, depends-on child) pairs between this section's child sections."""


class Decomposer(Protocol):
    """What a decomposer plugin (entry point `catalytic.prd.decomposers`) provides.

    `fingerprint()` goes into every memo key: it must change whenever the output
    could (name, version, options; for a model-backed one also model and prompt).
    """

    name: str
    version: str
    options: dict[str, Any]

    def fingerprint(self) -> bytes: ...

    def decompose_section(self, title: str, level: int, lines: list[str], body: int,
                          children: list[Summary]) -> SectionResult: ...

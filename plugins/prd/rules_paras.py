"""Paragraph rules: what a section's prose says about its heading task.

A `Label: value` paragraph sets the heading's priority, dependencies, test or a
line of its description; a label with nothing after it names the list that
follows (its `mode`); requirement sentences become tasks through the item
builder; other prose describes the heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from catalytic.plugins.prd import classify as C
from catalytic.plugins.prd import refs as R
from catalytic.plugins.prd.blocks import Para
from catalytic.plugins.prd.rules_items import ItemBuilder

LABEL = re.compile(r"^\s*(?:\*\*|__)?([A-Z][\w /&()-]{0,40}?)(?::\s*(?:\*\*|__)|(?:\*\*|__)\s*:|:)"
                   r"\s*(.*)$", re.S)
SENTENCE = re.compile(r"(?<=[A-Za-z)\]\"'`][.!?])\s+(?=[A-Z(\"*])")
DEP_LABELS = ("depend", "deps", "requires", "blocked", "prerequisite", "after", "needs",
              "waits for", "blocks", "required by", "needed by", "enables", "unblocks")
"""Label words that introduce dependencies of the heading task."""
DESC_LIMIT = 600
"""Prose past this many characters of description is no longer collected."""


@dataclass
class HeadingNotes:
    """The heading task's fields as the section's paragraphs fill them in."""

    priority: str | None
    desc: list[str] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)
    test: str = ""
    mode: str = ""
    """The key of the last `Label:` paragraph with no value: the items after it are its."""

    def para(self, block: Para, builder: ItemBuilder, acceptance: bool) -> None:
        """Read one paragraph of the section body."""
        text = block.text.strip()
        if C.is_placeholder(text):
            builder.placeholders += 1
            return
        if not block.quoted and self._label(block, text):
            return
        self.mode = ""
        if block.quoted:
            self.desc.append(C.plain(text))
            return
        if R.is_label_line(text):  # "Depends on US-1." on its own under a heading
            self.deps += [R.encode(d, block.first) for d in R.parse(text)]
            return
        found = requirements(block, text, builder, acceptance)
        if not found and sum(len(d) for d in self.desc) < DESC_LIMIT:
            self.desc.append(C.plain(text))

    def _label(self, block: Para, text: str) -> bool:
        """A short `Label: value` paragraph, applied to the heading; False if it is not one."""
        lab = LABEL.match(text)
        if lab and C.REQ_ID.fullmatch(C.plain(lab.group(1)).strip()):
            return False  # "REQ-101: The pump shall ..." is a requirement, not a label
        if not lab or len(lab.group(1).split()) > 5:
            return False
        key, value = lab.group(1).strip().lower(), lab.group(2).strip()
        self.mode = key if not value else ""
        if "priority" in key:
            self.priority = C.priority_of("priority: " + value) or self.priority
        elif key.startswith(DEP_LABELS):
            self.deps += [R.encode(d, block.first) for d in R.parse(f"{key}: {value}")]
        elif "test" in key or "verification" in key:
            self.test = C.plain(value)
        elif value and not C.ACCEPT_TITLES.search(key):
            self.desc.append(f"{lab.group(1).strip()}: {C.plain(value)}")
        return True


def requirements(block: Para, text: str, builder: ItemBuilder, acceptance: bool) -> bool:
    """Hand the paragraph's requirement sentences (scenarios too, in an acceptance section)
    to the builder, with the reference sentences that follow one; whether any was found."""
    found = last = False
    for sentence in sentences(text):
        if C.is_requirement(sentence) or (acceptance and C.is_scenario(sentence)):
            builder.sentence(sentence, block.first, block.last)
            found = last = True
        elif last and (R.is_label_line(sentence) or R.parse(sentence)):
            builder.extend_last(sentence, block.first, block.last)
        else:
            last = False
    return found


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE.split(" ".join(text.split())) if s]

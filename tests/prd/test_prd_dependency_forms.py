"""Dependencies in the forms people write them, plain-text outlines, and unresolved references."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from catalytic.plugins.prd.engine import Decomposition, decompose
from catalytic.plugins.prd.outline import as_lists, heading_label, ref_outline
from catalytic.plugins.prd.refs import is_label_line
from catalytic.plugins.prd.rules import RuleDecomposer

DATA = Path(__file__).resolve().parents[1] / "data" / "prd"


def run(text: str) -> Decomposition:
    return decompose(text, RuleDecomposer())


def edges(d: Decomposition) -> set[tuple[str, str]]:
    title = {t["id"]: t["title"] for t in d.tasks}
    return {(t["title"], title[x]) for t in d.tasks for x in t["dependencies"]}


PLAIN = """Orders Service
==============

Epic A: Checkout
----------------

1. Cart page
   Shows what the customer picked.
2. Payment form
   - Requires: Cart page (A.1)
3. Order confirmation email
  - Depends on: Order records (B.1)

Epic B: Back office
-------------------

1. Order records
2. Refunds
   - Blocked by: Order records (Epic B, item 1)
"""


def test_setext_lettered_epics_and_indented_labelled_lines() -> None:
    d = run(PLAIN)
    titles = [t["title"] for t in d.tasks]
    assert titles == ["Epic A: Checkout", "Cart page", "Payment form", "Order confirmation email",
                      "Epic B: Back office", "Order records", "Refunds"]
    assert edges(d) == {("Payment form", "Cart page"),
                        ("Order confirmation email", "Order records"),
                        ("Refunds", "Order records")}
    assert not d.problems["missing"]
    cart = next(t for t in d.tasks if t["title"] == "Cart page")
    assert cart["description"].startswith("Shows what")


def test_ears_bullet_after_a_bold_id_with_inline_depends_on() -> None:
    text = ("# Reqs\n\n"
            "- **FR-4** The service shall store orders.\n"
            "- **FR-8** The service shall store customers.\n"
            "- **FR-9** WHEN an order is placed THE service SHALL email the customer. "
            "Depends on FR-4, FR-8.\n")
    d = run(text)
    fr9 = next(t for t in d.tasks if "FR-9" in t["requirement_ids"])
    ids = {t["id"]: t["requirement_ids"] for t in d.tasks}
    assert sorted(ids[x][0] for x in fr9["dependencies"]) == ["FR-4", "FR-8"]


@pytest.mark.parametrize("ref", ["REQ-12", "US-3", "T012"])
def test_references_by_requirement_id(ref: str) -> None:
    text = f"# X\n\n- {ref} Build the base\n- Build on top. Blocked by {ref}.\n"
    d = run(text)
    assert edges(d) == {("Build on top", "Build the base")}


def test_outline_numbers_dotted_roman_and_epic_item() -> None:
    text = ("Plan\n====\n\n"
            "1. Storage\n   1.1 Schema\n   1.2 Indexes\n       2.3.1 Vacuum job\n"
            "I. Clients\n   a) Web client\n      Depends on: 1.2\n   b) CLI\n      After: I.a\n"
            "\nEpic C\n------\n\n1. Reports\n\n"
            "Epic D\n------\n\n1. Export\n   - Requires: Epic C, item 1\n   - Depends on: 2.3.1\n")
    d = run(text)
    got = edges(d)
    assert ("Web client", "Indexes") in got
    assert ("CLI", "Web client") in got
    assert ("Export", "Reports") in got
    assert ("Export", "Vacuum job") in got


def test_an_item_of_an_epic_named_by_its_title() -> None:
    text = ("Library\n=======\n\nEpic A: Catalogue\n-----------------\n\n1. Import the catalogue\n"
            "2. Search by title\n   - Requires: Catalogue import job (Catalogue, item 1)\n\n"
            "Loans\n-----\n\n1. Loan records\n2. Renewals\n"
            "   - Blocked by: Record of loans (Loans, item 1)\n")
    d = run(text)
    assert edges(d) == {("Search by title", "Import the catalogue"), ("Renewals", "Loan records")}
    assert not d.problems["missing"]


def test_references_by_title_prefix_and_close_match() -> None:
    text = ("# Work\n\n- Design the ledger schema\n- Write the invoice renderer\n"
            "  - Requires: Design the ledger\n"
            "- Hook up the mailer\n  - Depends on: Write the invoce renderer\n")
    assert edges(run(text)) == {("Write the invoice renderer", "Design the ledger schema"),
                                ("Hook up the mailer", "Write the invoice renderer")}


def test_an_ambiguous_title_prefix_is_reported_not_guessed() -> None:
    text = "# W\n\n- Build the API\n- Build the app\n- Ship it\n  - Depends on: Build the\n"
    d = run(text)
    assert not edges(d)
    assert d.problems["missing"] == [{"task": "w/ship-it", "ref": "Build the"}]


def test_titles_joined_by_and_and_the_nearest_of_two_equal_titles() -> None:
    text = ("# Plan\n\n## Roadmap\n\n1. Task store\n2. Basic operations\n\n"
            "## Chain\n\n1. Task store\n2. Basic operations\n   - Depends on task store\n"
            "3. Search and filters\n   - Depends on both task store and basic operations\n"
            "4. Export\n   - Depends on basic operations and CSV writer\n")
    d = run(text)
    ids = {t["id"]: t for t in d.tasks}
    got = {(t["id"], d2) for t in d.tasks for d2 in t["dependencies"]}
    assert got == {("chain/basic-operations", "chain/task-store"),
                   ("chain/search-and-filters", "chain/task-store"),
                   ("chain/search-and-filters", "chain/basic-operations"),
                   ("chain/export", "chain/basic-operations")}
    assert "chain/export" in ids
    assert d.problems["missing"] == [{"task": "chain/export", "ref": "csv writer"}]


@pytest.mark.parametrize("line", ["  - Depends: Alpha store", "  - Deps: Alpha store",
                                  "  - Dependency: Alpha store", "  - Blocked on Alpha store",
                                  "  - Waiting for: Alpha store", "  - Prerequisite: Alpha store",
                                  "  - After: Alpha store", "  - Needs: Alpha store",
                                  "  - **Depends on**: Alpha store"])
def test_label_variants(line: str) -> None:
    d = run(f"- Alpha store\n- Beta api\n{line}\n")
    assert edges(d) == {("Beta api", "Alpha store")}
    assert [t["title"] for t in d.tasks] == ["Alpha store", "Beta api"]


def test_reverse_forms_blocks_required_by() -> None:
    text = ("# Plan\n\n## Build\n\n- Cart page\n  - Blocks: Payment form, Order summary\n"
            "- Payment form\n- Order summary\n- Ledger schema\n  - Required by: Refunds (B.2)\n"
            "- Enables the minimal workflow\n\n## B\n\n1. Refund policy\n2. Refunds\n")
    d = run(text)
    assert edges(d) == {("Payment form", "Cart page"), ("Order summary", "Cart page"),
                        ("Refunds", "Ledger schema")}
    assert not d.problems["missing"]


def test_an_unresolved_reference_is_reported_with_its_line_and_quote() -> None:
    text = "# W\n\n- Ship it\n  - Blocked by: Legal review (C.4)\n- Test it\n"
    d = run(text)
    assert d.problems["missing"] == [{"task": "w/ship-it", "ref": "Legal review (C.4)"}]
    (u,) = d.problems["unresolved"]
    assert u["line"] == 4 and u["ref"] == "Legal review (C.4)"
    assert "'Legal review (C.4)'" in u["message"] and "line 4" in u["message"]


def test_prose_is_not_a_reference() -> None:
    text = ("- The client requires a valid token for every call\n"
            "- After login, show the dashboard\n- Log out\n")
    d = run(text)
    assert [t["title"] for t in d.tasks] == ["The client requires a valid token for every call",
                                             "After login, show the dashboard", "Log out"]
    assert not edges(d) and not d.problems["missing"]


def test_a_labelled_paragraph_under_a_heading_is_the_section_s_dependency() -> None:
    text = ("# S\n\n## Story 1: Sign up\n\nAs a user I want an account.\n\n"
            "## Story 2: Profile\n\nAs a user I want a profile.\n\nDepends on Story 1.\n")
    assert edges(run(text)) == {("Story 2: Profile", "Story 1: Sign up")}


def test_a_table_of_contents_is_skipped_and_ids_stay_unique() -> None:
    text = (DATA / "kep-kuberc-head.md").read_text()
    d = run(text)
    toc = range(79, 135)  # the document's own table of contents
    assert not [t for t in d.tasks if t["lines"][0] in toc]
    assert not [i for i, n in Counter(t["id"] for t in d.tasks).items() if n > 1]


def test_issue_keys_and_part_lines_are_items() -> None:
    text = ("Scope\n=====\n\nWAL-1  Scan a card\nWAL-2  Verify the card\n       Blocked by WAL-1\n"
            "\nPART II. Payments\n  a. Pay by NFC\n  b. Refund\n     Requires: II.a\n")
    d = run(text)
    assert [t["title"] for t in d.tasks] == ["Scope", "Scan a card", "Verify the card",
                                             "PART II. Payments", "Pay by NFC", "Refund"]
    assert edges(d) == {("Verify the card", "Scan a card"), ("Refund", "Pay by NFC")}


def test_issue_numbers_once_and_gherkin_features() -> None:
    d = run("- [x] #101 Upgrade the ORM\n- [ ] #102 Drop old tables (blocked by #101)\n"
            "- [ ] #103 Clean up once #101 and #102 are done\n")
    assert edges(d) == {("Drop old tables", "Upgrade the ORM"),
                        ("Clean up once #101 and #102 are done", "Upgrade the ORM"),
                        ("Clean up once #101 and #102 are done", "Drop old tables")}
    g = run("Shop\n====\n\nFeature: Login\n  Scenario: Password\n    Given a customer\n"
            "    Then they are in\n\nFeature: Wish list\n  Depends on: Login\n")
    assert [t["title"] for t in g.tasks] == ["Shop", "Login", "Password", "Wish list"]
    assert next(t for t in g.tasks if t["title"] == "Password")["kind"] == "acceptance-criterion"
    assert edges(g) == {("Wish list", "Login")}


def test_statements_in_a_dependencies_section() -> None:
    text = ("# Tasks\n\n## Phase 1: Setup\n\n- [ ] T001 Repo\n\n## Phase 3: Search\n\n"
            "- [ ] T010 Index\n\n## Reports\n\n- [ ] T020 Charts\n\n## Dependencies\n\n"
            "- Reports depends on Phase 3.\n- **Search (Phase 3)**: Depends on T001\n"
            "- Billing depends on Reports\n")
    d = run(text)
    assert edges(d) == {("Reports", "Phase 3: Search"), ("Phase 3: Search", "Repo")}
    assert "Dependencies" in [t["title"] for t in d.tasks]
    assert len(d.tasks) == 7  # the statements are not tasks
    assert d.problems["missing"] == [{"task": "dependencies", "ref": "Billing"}]


def test_outline_recogniser_pieces() -> None:
    listed, markers = as_lists("A. One\n   a) Two\n   (iii) Three\n2.3.1 Four\nPlain text.\n")
    assert markers == {0: "A", 1: "a", 2: "iii", 3: "2.3.1"}
    assert listed.split("\n")[:4] == ["- A. One", "   - a) Two", "   - (iii) Three",
                                      "- 2.3.1 Four"]
    _, none = as_lists("We met\nI. M. Pei there.\n")
    assert none == {}
    assert heading_label("Epic B: Loans") == "b" and heading_label("2.3 Ranking") == "2.3"
    assert ref_outline("Epic C, item 1") == "c.1" and ref_outline("story 5") == "5"
    assert is_label_line("- Blocked by: X") and is_label_line("Requires 1.2 and 2.1.")
    assert not is_label_line("After login, show the dashboard")


def test_through_the_daemon_edges_and_unresolved_references_arrive(make_daemon) -> None:
    daemon = make_daemon({"daemon": {"plugins": ["prd"], "workers": 1}})
    text = PLAIN + "3. Audit trail\n   - Requires: Compliance sign-off (D.2)\n"
    with daemon.client() as c:
        r = c.call("prd.decompose", text=text, document="orders")
        title = {t["id"]: t["title"] for t in r["tasks"]}
        assert len(title) == len(r["tasks"])
        refunds = next(t for t in r["tasks"] if t["title"] == "Refunds")
        assert [title[d] for d in refunds["dependencies"]] == ["Order records"]
        (u,) = r["problems"]["unresolved"]
        assert u["ref"] == "Compliance sign-off (D.2)" and u["line"] == text.count("\n")
        assert "Compliance sign-off (D.2)" in u["message"]

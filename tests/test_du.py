"""``ama du``: what the local store holds, and what prune would free."""

from __future__ import annotations

import pytest
from e2e import Work
from storage_helpers import commit_three_versions

pytest_plugins = ["fixtures_history"]


@pytest.fixture
def three(e2e_work: Work) -> Work:
    commit_three_versions(e2e_work)
    return e2e_work


def rows(w: Work, *args: str) -> dict[str, str]:
    """Each line by its label (the first 24 columns)."""
    return {"unpushed" if line.startswith("unpushed") else line[:24].strip(): line for line in w.lines("du", *args)}


def count(line: str) -> int:
    return int(line[24:33])


def test_du_sorts_the_store_by_what_it_is_for(three: Work) -> None:
    three.write("new.bin", b"staged only" * 10)
    three.ok("add", "new.bin")
    r = rows(three)
    # a.bin v3, b.bin and new.bin are staged; a.bin v1 and v2 are older.
    assert count(r["checked out or staged"]) == 3
    assert "shared with work-tree files" in r["checked out or staged"]
    assert count(r["older versions"]) == 2
    assert "(ama prune frees 2.1 KiB)" in r["older versions"]
    assert count(r["trees and commits"]) == 6
    assert r["unpushed"] == "unpushed: 1 staged content(s), 110 B, not on origin"


def test_du_after_prune_has_no_older_versions(three: Work) -> None:
    three.ok("prune")
    r = rows(three, "--offline")
    assert count(r["older versions"]) == 0
    assert "unpushed" not in r


def test_an_unreachable_remote_makes_unpushed_unknown(three: Work) -> None:
    three.ok("config", "core.remote", "nowhere")
    r = rows(three)
    assert r["unpushed"].startswith("unpushed: unknown (no remote named 'nowhere'")

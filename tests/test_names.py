"""The names add accepts are exactly the names clone can write back.

docs/object-format.md ("Names") gives the rule, ama/names.py holds it; add
and update-index refuse the rest with one line (exit 4), and every accepted
name, the longest ones included, round-trips through commit and clone.
"""

from __future__ import annotations

import pytest
from conftest import one_line_error, read_index
from e2e import Work, make_env


@pytest.fixture
def w(tmp_path) -> Work:
    work = Work(tmp_path / "work", make_env(tmp_path / "home"))
    work.ok("init", "--class", "data")
    return work


@pytest.mark.parametrize("name", ["back\\slash", "dir\\file"])
def test_add_refuses_a_backslash_by_name_and_in_a_walk(w, name):
    w.write(name, "x\n")
    assert "backslash" in one_line_error(w("add", name), 4)
    assert "backslash" in one_line_error(w("add", "."), 4)
    assert read_index(w.root) == {}


@pytest.mark.parametrize("name", [".ama-asset", ".amaignore"])
def test_add_force_refuses_a_root_control_file(w, name):
    w.write(name, "x\n")
    assert "control file" in one_line_error(w("add", "--force", name), 4)
    assert read_index(w.root) == {}


def test_update_index_refuses_what_add_refuses(w):
    w.write("back\\slash", "x\n")
    one_line_error(w("update-index", "--add", "back\\slash"), 4)
    assert read_index(w.root) == {}


def test_add_skips_nested_git_and_ama_directories_in_any_case(w):
    w.write("sub/.git/config", "x\n")
    w.write("sub/.AMA/config", "x\n")
    w.write("sub/.Git/hooks/post-checkout", "x\n")
    w.write("sub/data.txt", "data\n")
    w.ok("add", ".")
    assert list(read_index(w.root)) == ["sub/data.txt"]


def test_the_longest_names_and_odd_characters_round_trip_through_clone(w, tmp_path):
    names = ["x" * 255, "d" * 200 + "/" + "é" * 127, "sp ace\tand\rcr", "sub/.amaignore", "sub/.ama-asset"]
    for i, name in enumerate(names):
        w.write(name, f"{i}\n")
    w.commit("odd names", ".")
    clone = w.clone("data/1", "clone")
    for i, name in enumerate(names):
        assert (clone.root / name).read_text() == f"{i}\n"
    assert clone.lines("status", "--porcelain") == []

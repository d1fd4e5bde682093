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


def test_name_predicates_accept_exactly_what_the_patterns_do():
    import re

    from ama.names import is_class_name, is_hex64

    hex64 = re.compile(r"^[0-9a-f]{64}\Z")
    class_name = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")
    samples = ["", "a", "A.b_c-d", ".a", "-a", "a/b", "a b", "a\n", "\u0661", "caf\u00e9", "a" * 64, "0" * 64 + "\n",
               "f" * 63, "F" * 64, "0123456789abcdef" * 4, "g" + "0" * 63, "\u0660" * 64]
    for s in samples:
        assert is_hex64(s) == bool(hex64.match(s)), s
        assert is_class_name(s) == bool(class_name.match(s)), s
    assert not is_hex64(None) and not is_class_name(3)

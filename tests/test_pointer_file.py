"""The pointer file (.ama-asset) is read strictly: a git merge that left
conflict markers in it, or a pointer whose commit is not the one its version
names on the remote, is exit 6 with one line, never a silent pick of one
side or of the wrong data. Drives the real git command."""

from __future__ import annotations

from conftest import ok, one_line_error
from git_helpers import git_env, make_project


def _branches_with_two_versions(tmp_path, ama_env):
    """main pins version 1; branch 'side' pins version 2; the work tree is back on main's version 1."""
    p = make_project(tmp_path, git_env(ama_env))
    p.commit_data("v1", **{"a.bin": b"one\n"})
    p.git("checkout", "-qb", "side")
    p.commit_data("v2", **{"a.bin": b"two\n"})
    p.git("checkout", "-q", "-")
    p.commit_data("v3", **{"a.bin": b"three\n"})
    return p


def test_a_pointer_with_merge_conflict_markers_is_refused_with_the_way_out(tmp_path, ama_env):
    p = _branches_with_two_versions(tmp_path, ama_env)
    assert p.git("merge", "-q", "side", check=False).rc != 0  # both sides changed .ama-asset
    assert "<<<<<<<" in (p.data / ".ama-asset").read_text()
    line = one_line_error(p.ama("checkout"), 6)
    assert ".ama-asset is not a valid pointer file" in line and "conflict markers" in line
    assert (p.data / "a.bin").read_bytes() == b"three\n"  # nothing was checked out
    # The way out the line names: keep one side, and checkout works again.
    p.git("checkout", "--theirs", ".ama-asset", cwd=p.data)
    ok(p.ama("checkout"))
    assert (p.data / "a.bin").read_bytes() == b"two\n"


def test_a_pointer_whose_commit_is_not_its_versions_commit_is_refused(tmp_path, ama_env):
    p = _branches_with_two_versions(tmp_path, ama_env)
    pointer = p.data / ".ama-asset"
    lines = pointer.read_text().splitlines()
    lines[2] = "commit: " + "0" * 64
    pointer.write_text("\n".join(lines) + "\n")
    line = one_line_error(p.ama("checkout"), 6)
    assert "pins" in line and "on the remote is commit" in line
    assert (p.data / "a.bin").read_bytes() == b"three\n"


def test_a_truncated_pointer_is_named(tmp_path, ama_env):
    p = _branches_with_two_versions(tmp_path, ama_env)
    pointer = p.data / ".ama-asset"
    pointer.write_bytes(pointer.read_bytes()[:20])
    line = one_line_error(p.ama("checkout"), 6)
    assert ".ama-asset is not a valid pointer file" in line and "git checkout -- .ama-asset" in line


def test_a_fresh_init_next_to_a_pointer_names_fetch_until_the_version_is_fetched(tmp_path, ama_env):
    """A git clone of the project: .ama-asset is there, .ama/ is not. HEAD
    comes from the pointer, whose commit this new repository does not have."""
    import shutil

    p = _branches_with_two_versions(tmp_path, ama_env)
    shutil.rmtree(p.data / ".ama")
    ok(p.ama("init", "-q"))
    for command in (["status"], ["commit", "-m", "x"]):
        line = one_line_error(p.ama(*command), 11)
        assert "HEAD's commit" in line and "not in the local store" in line and "'ama fetch'" in line
    ok(p.ama("fetch"))
    assert "On asset" in ok(p.ama("status")).out

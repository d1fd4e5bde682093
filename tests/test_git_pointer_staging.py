"""The pointer file and git, as a git user meets them: 'ama commit' says how
to stage .ama-asset (or stages it itself with core.autostage), and a
'git clone' of a project holding .ama-asset without .ama/ gets told how to
fetch the data. Drives the real git command."""

from __future__ import annotations

from conftest import ok, one_line_error, run_ama, write
from git_helpers import git_env, make_project


def test_commit_says_how_to_stage_the_pointer(tmp_path, ama_env):
    p = make_project(tmp_path, git_env(ama_env))
    write(p.data / "a.bin", b"alpha\n")
    ok(p.ama("add", "a.bin"))
    r = ok(p.ama("commit", "-m", "v1"))
    assert "to pin this version in git, stage the pointer: git add .ama-asset" in r.err
    assert p.git("diff", "--cached", "--name-only").out == ""  # ama staged nothing in git


def test_autostage_stages_the_pointer_through_dulwich(tmp_path, ama_env):
    p = make_project(tmp_path, git_env(ama_env))
    ok(p.ama("config", "core.autostage", "true"))
    write(p.data / "a.bin", b"alpha\n")
    ok(p.ama("add", "a.bin"))
    r = ok(p.ama("commit", "-m", "v1"))
    assert "staged .ama-asset in git (core.autostage)" in r.err
    assert p.git("diff", "--cached", "--name-only").out.split() == ["data/.ama-asset"]
    assert p.git("show", ":data/.ama-asset").out == (p.data / ".ama-asset").read_text()


def test_a_git_clone_without_ama_says_how_to_get_the_data(tmp_path, ama_env):
    env = git_env(ama_env)
    p = make_project(tmp_path, env)
    p.commit_data("v1", **{"a.bin": b"alpha\n"})
    clone = tmp_path / "clone"
    p.git("clone", "-q", p.top, clone, cwd=tmp_path)
    name = (p.data / ".ama-asset").read_text().split()[1]  # "asset: CLASS/SEQ"
    line = one_line_error(run_ama("status", cwd=clone / "data", env=env), 3)
    assert f"names {name}/1" in line and f"'ama init && ama checkout {name}/1'" in line
    # The hint works as written.
    ok(run_ama("init", cwd=clone / "data", env=env))
    ok(run_ama("checkout", f"{name}/1", cwd=clone / "data", env=env))
    assert (clone / "data" / "a.bin").read_bytes() == b"alpha\n"


def test_add_says_how_many_paths_git_rules_skipped_and_by_which_rule(tmp_path, ama_env):
    p = make_project(tmp_path, git_env(ama_env))
    write(p.data / ".gitignore", "*.log\ncache/\n")
    write(p.data / "a.bin", b"alpha\n")
    write(p.data / "run1.log", "log\n")
    write(p.data / "run2.log", "log\n")
    write(p.data / "cache" / "x.tmp", "x\n")
    r = ok(p.ama("add", "."))
    assert "skipped 3 ignored path(s): 2 by .gitignore:1:*.log (e.g. run1.log); 1 by .gitignore:2:cache/ (e.g. cache/)" in r.err
    assert "'ama check-ignore -v PATH' explains" in r.err
    assert ok(p.ama("ls-files")).out.split() == ["a.bin"]

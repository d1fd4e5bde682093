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


def _hooked_with_v1(tmp_path, ama_env):
    """A project with the hooks installed and version 1 pinned in git."""
    p = make_project(tmp_path, git_env(ama_env))
    ok(p.ama("hooks", "install"))
    p.git("add", "data/.gitignore")
    p.commit_data("v1", **{"a.bin": b"alpha\n"})
    write(p.data / "a.bin", b"alpha, v2\n")
    ok(p.ama("add", "a.bin"))
    ok(p.ama("commit", "-m", "v2"))  # .ama-asset now names v2; git still has v1's
    (p.top / "main.py").write_text("print('v2')\n")
    p.git("add", "main.py")
    return p


def test_pre_commit_refuses_a_pointer_git_would_not_commit(tmp_path, ama_env):
    p = _hooked_with_v1(tmp_path, ama_env)
    refused = p.git("commit", "-qm", "code v2", check=False)
    assert refused.rc != 0
    lines = [line for line in refused.err.splitlines() if line.startswith("ama pre-commit")]
    assert lines == ["ama pre-commit: data/.ama-asset differs from the one this git commit records (the data "
                     "version moved since it was staged); run 'git add data/.ama-asset', then commit "
                     "(hooks.precommit = warn only warns)"]
    assert p.git("log", "--format=%s", "-1").out.strip() == "data: v1"

    # 'git commit PATH' records only PATH: the hook sees git's commit, not the index.
    p.git("add", "data/.ama-asset")
    refused = p.git("commit", "-qm", "code only", "main.py", check=False)
    assert refused.rc != 0 and "data/.ama-asset differs" in refused.err
    # The line's advice works: with the pointer staged, the commit pins v2.
    p.git("commit", "-qm", "code and data v2")
    assert "version: 2" in p.git("show", "HEAD:data/.ama-asset").out


def test_pre_commit_accepts_commit_dash_a_and_refuses_an_untracked_pointer(tmp_path, ama_env):
    p = _hooked_with_v1(tmp_path, ama_env)
    p.git("commit", "-qam", "everything")  # -a stages the pointer too: nothing to say
    assert "version: 2" in p.git("show", "HEAD:data/.ama-asset").out

    p.git("rm", "-q", "--cached", "data/.ama-asset")
    refused = p.git("commit", "-qm", "drop the pin", check=False)
    assert refused.rc != 0 and "data/.ama-asset is not in git" in refused.err
    # A project that keeps the pointer out of git on purpose ignores it.
    write(p.data / ".gitignore", (p.data / ".gitignore").read_text() + ".ama-asset\n")
    p.git("add", "data/.gitignore")
    p.git("commit", "-qm", "no pin in git")


def test_pre_commit_only_warns_with_hooks_precommit_warn(tmp_path, ama_env):
    p = _hooked_with_v1(tmp_path, ama_env)
    ok(p.ama("config", "hooks.precommit", "warn"))
    done = p.git("commit", "-qm", "code v2")
    assert ("ama pre-commit: warning: data/.ama-asset differs from the one this git commit records "
            "(the data version moved since it was staged); run 'git add data/.ama-asset' to pin it") in done.err
    assert "version: 1" in p.git("show", "HEAD:data/.ama-asset").out
    line = one_line_error(p.ama("config", "hooks.precommit", "maybe"), 2)
    assert "refuse" in line and "warn" in line

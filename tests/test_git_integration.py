"""ama inside a git repository: .ama/ ignored by git, identity from git
config, git provenance in commits, git's ignore rules honoured, the pointer
file, and the hooks of 'ama hooks install' driven by the real git command."""

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import AMA, ok, one_line_error, run_ama, write
from git_helpers import GitProject, git, git_env, make_project, replace_file, sha256

from ama.hooks import CHAINED, HOOKS


@pytest.fixture
def genv(ama_env):
    return git_env(ama_env)


@pytest.fixture
def project(tmp_path, genv) -> GitProject:
    """A git repository with one code file and an ama work tree in data/."""
    return make_project(tmp_path, genv)


@pytest.fixture
def hooked(project) -> GitProject:
    """``project`` with one committed data version pinned in git and the
    hooks installed."""
    ok(project.ama("hooks", "install"))
    project.git("add", "data/.gitignore")
    project.commit_data("v1", **{"a.bin": b"alpha v1\n"})
    return project


def run_hook(p: GitProject, name: str, *args: str) -> subprocess.CompletedProcess:
    """Run an installed hook as git would: from the top of the work tree."""
    hook = p.top / ".git" / "hooks" / name
    return subprocess.run([str(hook), *args], cwd=p.top, env=p.env, capture_output=True, text=True, timeout=60)


def _has_show() -> bool:
    """ama show is written by another change; test its git line once it exists."""
    import importlib.util

    return importlib.util.find_spec("ama.porcelain.show") is not None


def commit_record(p: GitProject) -> tuple[str, dict]:
    """(author, metadata) of the work tree's current ama commit."""
    commit = ok(p.ama("rev-parse", "--local", "HEAD")).out.strip()
    lines = ok(p.ama("cat-file", "-p", commit)).out.splitlines()
    author = next(line.split(" ", 1)[1].rsplit(" ", 2)[0] for line in lines if line.startswith("author "))
    meta = {}
    for line in lines:
        if line.startswith("meta "):
            _, key, value = line.split(" ", 2)
            meta[key] = json.loads(value)
    return author, meta


# -- ama init inside git -----------------------------------------------------------


def test_init_inside_git_makes_git_ignore_dot_ama_once(project):
    gitignore = project.data / ".gitignore"
    assert gitignore.read_text() == "/.ama/\n"
    again = ok(project.ama("init"))
    assert "git repository found" not in again.err
    assert gitignore.read_text() == "/.ama/\n"
    write(project.data / "a.csv", "x\n")
    untracked = project.git("status", "--porcelain", "-uall").out
    assert ".ama/" not in untracked
    assert "?? data/a.csv" in untracked  # the data files stay the user's decision


def test_init_at_the_top_of_git_tells_the_user(tmp_path, genv):
    top = tmp_path / "top"
    top.mkdir()
    git("init", "-q", "-b", "main", cwd=top, env=genv)
    r = ok(run_ama("init", cwd=top, env=genv))
    assert "git repository found" in r.err and ".gitignore" in r.err
    assert (top / ".gitignore").read_text() == "/.ama/\n"
    assert git("check-ignore", "-q", ".ama/index", cwd=top, env=genv).rc == 0


def test_init_quiet_prints_nothing_and_still_makes_git_ignore_dot_ama(tmp_path, genv):
    top = tmp_path / "top"
    top.mkdir()
    git("init", "-q", "-b", "main", cwd=top, env=genv)
    r = ok(run_ama("init", "-q", cwd=top, env=genv))
    assert (r.out, r.err) == ("", "")
    assert (top / ".gitignore").read_text() == "/.ama/\n"
    assert (top / ".ama" / "index").exists() or (top / ".ama").is_dir()


def test_init_leaves_gitignore_alone_when_git_already_ignores_ama(tmp_path, genv):
    top = tmp_path / "top"
    top.mkdir()
    git("init", "-q", "-b", "main", cwd=top, env=genv)
    (top / ".git" / "info" / "exclude").write_text(".ama/\n")
    ok(run_ama("init", cwd=top, env=genv))
    assert not (top / ".gitignore").exists()


# -- identity ------------------------------------------------------------------------


def test_author_comes_from_ama_env_then_repo_git_config_then_global(project):
    env = {k: v for k, v in project.env.items() if not k.startswith("AMA_AUTHOR_")}
    home = Path(env["HOME"])
    (home / ".gitconfig").write_text("[user]\n\tname = Global Person\n\temail = global@example.com\n")
    project.git("config", "user.name", "Local Person")
    project.git("config", "user.email", "local@example.com")
    write(project.data / "a.bin", b"1")
    ok(project.ama("add", "a.bin"))
    ok(project.ama("commit", "-m", "one", env=env))
    assert commit_record(project)[0] == "Local Person <local@example.com>"

    project.git("config", "--unset", "user.name")
    project.git("config", "--unset", "user.email")
    replace_file(project.data / "a.bin", b"2")
    ok(project.ama("add", "a.bin"))
    ok(project.ama("commit", "-m", "two", env=env))
    assert commit_record(project)[0] == "Global Person <global@example.com>"

    replace_file(project.data / "a.bin", b"3")
    ok(project.ama("add", "a.bin"))
    ok(project.ama("commit", "-m", "three", env=dict(env, AMA_AUTHOR_NAME="Env Person", AMA_AUTHOR_EMAIL="e@x")))
    assert commit_record(project)[0] == "Env Person <e@x>"


def test_outside_git_the_author_is_the_login_name_and_there_is_no_provenance(tmp_path, ama_env):
    env = {k: v for k, v in git_env(ama_env).items() if not k.startswith("AMA_AUTHOR_")}
    env.update(USER="datauser", LOGNAME="datauser")
    root = tmp_path / "plain"
    root.mkdir()
    ok(run_ama("init", cwd=root, env=env))
    write(root / "a.bin", b"1")
    ok(run_ama("add", "a.bin", cwd=root, env=env))
    ok(run_ama("commit", "-m", "one", cwd=root, env=env))
    commit = ok(run_ama("rev-parse", "--local", "HEAD", cwd=root, env=env)).out.strip()
    shown = ok(run_ama("cat-file", "-p", commit, cwd=root, env=env)).out
    assert "author datauser <datauser@" in shown
    assert "meta git." not in shown


# -- provenance ----------------------------------------------------------------------


def test_commit_records_git_head_branch_and_dirty(project):
    write(project.data / "a.bin", b"1")
    ok(project.ama("add", "a.bin"))
    ok(project.ama("commit", "-m", "clean"))
    _, meta = commit_record(project)
    assert meta == {"git.commit": project.head(), "git.branch": "main", "git.dirty": False}
    if _has_show():
        assert f"Git: {project.head()[:12]} on main" in ok(project.ama("show")).out

    (project.top / "main.py").write_text("print('changed')\n")  # a file git tracks
    replace_file(project.data / "a.bin", b"2")
    ok(project.ama("add", "a.bin"))
    ok(project.ama("commit", "-m", "dirty"))
    assert commit_record(project)[1]["git.dirty"] is True

    project.git("checkout", "-q", "main.py")
    project.git("checkout", "-q", "--detach")
    replace_file(project.data / "a.bin", b"3")
    ok(project.ama("add", "a.bin"))
    ok(project.ama("commit", "-m", "detached"))
    assert commit_record(project)[1] == {"git.commit": project.head(), "git.branch": None, "git.dirty": False}


# -- ignore rules --------------------------------------------------------------------


@pytest.fixture
def ignores(project):
    """git ignore rules at every level: the top .gitignore, one in data/sub,
    .git/info/exclude and core.excludesFile (in the temp HOME)."""
    (project.top / ".gitignore").write_text("*.tmp\nscratch/\n")
    write(project.data / "sub" / ".gitignore", "local-*\n!local-keep\n")
    (project.top / ".git" / "info" / "exclude").write_text("*.swp\n")
    excludes = Path(project.env["HOME"]) / "global-ignore"
    excludes.write_text("*.bak\n")
    project.git("config", "core.excludesFile", str(excludes))
    for name in ("x.tmp", "x.swp", "x.bak", "scratch/s.bin", "sub/local-1", "sub/local-keep", "keep.bin"):
        write(project.data / name, name)
    return project


def test_gitignored_files_are_not_untracked(ignores):
    out = ok(ignores.ama("status", "--porcelain", "-uall")).out.splitlines()
    assert out == ["?? keep.bin", "?? sub/local-keep"]


def test_add_refuses_a_gitignored_file_naming_the_rule_unless_forced(ignores):
    line = one_line_error(ignores.ama("add", "x.tmp"), 4)
    assert "x.tmp" in line and "../.gitignore:1:*.tmp" in line and "--force" in line
    line = one_line_error(ignores.ama("add", "sub/local-1"), 4)
    assert "sub/.gitignore:1:local-*" in line
    ok(ignores.ama("add", "--force", "x.tmp"))
    ok(ignores.ama("add", "x.tmp"))  # tracked now: ignoring no longer applies
    ok(ignores.ama("add", "."))
    staged = ok(ignores.ama("ls-files")).out.split()
    assert staged == ["keep.bin", "sub/local-keep", "x.tmp"]


def test_amaignore_takes_back_what_git_ignores(ignores):
    write(ignores.data / ".amaignore", "!*.tmp\n!scratch/\nkeep.bin\n")
    out = ok(ignores.ama("status", "--porcelain", "-uall")).out.splitlines()
    assert out == ["?? scratch/s.bin", "?? sub/local-keep", "?? x.tmp"]


def test_check_ignore_names_the_rule_like_git(ignores):
    r = ignores.ama("check-ignore", "-v", "x.tmp", "x.swp", "x.bak", "scratch/s.bin", "sub/local-keep", "keep.bin")
    assert r.rc == 0
    excludes = Path(ignores.env["HOME"]) / "global-ignore"
    assert r.out.splitlines() == [
        "../.gitignore:1:*.tmp\tx.tmp",
        "../.git/info/exclude:1:*.swp\tx.swp",
        f"{excludes}:1:*.bak\tx.bak",
        "../.gitignore:2:scratch/\tscratch/s.bin",
        "sub/.gitignore:2:!local-keep\tsub/local-keep",
    ]
    assert ok(ignores.ama("check-ignore", "x.tmp", "keep.bin", "sub/local-keep")).out == "x.tmp\n"
    nothing = ignores.ama("check-ignore", "keep.bin", "sub/local-keep")
    assert (nothing.rc, nothing.out) == (1, "")
    assert ignores.ama("check-ignore", "-v", "-n", "keep.bin").out == "::\tkeep.bin\n"
    assert ignores.ama("check-ignore", "-z", "-v", "x.tmp").out == "../.gitignore\x001\x00*.tmp\x00x.tmp\x00"


def test_check_ignore_skips_tracked_paths_unless_no_index(ignores):
    ok(ignores.ama("add", "--force", "x.tmp"))
    assert ignores.ama("check-ignore", "x.tmp").rc == 1
    assert ok(ignores.ama("check-ignore", "--no-index", "-v", "x.tmp")).out == "../.gitignore:1:*.tmp\tx.tmp\n"


def test_check_ignore_agrees_with_git(ignores):
    paths = ["x.tmp", "x.swp", "x.bak", "scratch/s.bin", "sub/local-1", "sub/local-keep", "keep.bin"]
    ama = ignores.ama("check-ignore", *paths).out.splitlines()
    git_out = ignores.git("check-ignore", *paths, cwd=ignores.data, check=False).out.splitlines()
    assert ama == git_out


# -- the pointer file ----------------------------------------------------------------


def test_commit_writes_the_pointer_and_checkout_without_argument_follows_it(project):
    project.commit_data("v1", **{"a.bin": b"one"})
    v1 = (project.data / ".ama-asset").read_text()
    assert v1.startswith("asset: data/") and "\nversion: 1\ncommit: " in v1
    project.commit_data("v2", **{"a.bin": b"two"})
    (project.data / ".ama-asset").write_text(v1)
    ok(project.ama("checkout"))
    assert (project.data / "a.bin").read_bytes() == b"one"


# -- hooks ---------------------------------------------------------------------------


def test_pre_commit_refuses_changed_data_or_a_pending_commit_naming_it(hooked):
    p = hooked
    replace_file(p.data / "a.bin", b"alpha v2\n")
    (p.top / "main.py").write_text("print('v2')\n")
    p.git("add", "main.py")
    refused = p.git("commit", "-qm", "code v2", check=False)
    assert refused.rc != 0
    assert "data/a.bin: modified since 'ama add'" in refused.err
    assert p.git("log", "--format=%s", "-1").out.strip() == "data: v1"

    ok(p.ama("add", "a.bin"))
    ok(p.ama("commit", "-m", "v2"))
    p.git("add", "data/.ama-asset")
    p.git("commit", "-qm", "code and data v2")

    (p.data / "a.bin").unlink()
    refused = p.git("commit", "-q", "--allow-empty", "-m", "x", check=False)
    assert refused.rc != 0 and "data/a.bin: deleted since 'ama add'" in refused.err
    ok(p.ama("checkout", "--force"))

    write(p.data / "b.bin", b"beta")
    ok(p.ama("add", "b.bin"))
    killed = run_ama("commit", "-m", "v3", cwd=p.data, env=dict(p.env, AMA_FAILPOINT="after-pending"))
    assert killed.rc != 0 and (p.data / ".ama" / "PENDING").exists()
    refused = p.git("commit", "-q", "--allow-empty", "-m", "x", check=False)
    assert refused.rc != 0 and "data/.ama/PENDING: an ama commit is pending" in refused.err


def test_git_checkout_materializes_the_pinned_data_version(hooked):
    p = hooked
    v1 = {"a.bin": sha256(p.data / "a.bin")}
    v1_commit = p.head()
    p.commit_data("v2", **{"a.bin": b"alpha v2\n" * 1000, "dir/b.bin": b"beta\n"})
    v2 = {name: sha256(p.data / name) for name in ("a.bin", "dir/b.bin")}

    p.git("checkout", "-q", v1_commit)
    assert {"a.bin": sha256(p.data / "a.bin")} == v1
    assert not (p.data / "dir" / "b.bin").exists()
    assert ok(p.ama("status", "--porcelain")).out == ""

    p.git("checkout", "-q", "main")
    assert {name: sha256(p.data / name) for name in v2} == v2
    assert ok(p.ama("stat-check")).out == ""

    # A branch switch to the same pin leaves the data, and edits to it, alone.
    replace_file(p.data / "a.bin", b"work in progress")
    p.git("checkout", "-q", "-b", "topic")
    assert (p.data / "a.bin").read_bytes() == b"work in progress"


def test_existing_user_hook_is_chained_and_restored_byte_for_byte(project):
    p = project
    hook = p.top / ".git" / "hooks" / "pre-commit"
    original = b"#!/bin/sh\n# my own hook\necho ran >> \"$(git rev-parse --git-dir)/user-hook-ran\"\nexit ${USER_HOOK_EXIT:-0}\n"
    hook.write_bytes(original)
    os.chmod(hook, 0o750)
    before = os.stat(hook)

    ok(p.ama("hooks", "install"))
    assert (hook.parent / ("pre-commit" + CHAINED)).read_bytes() == original
    p.git("commit", "-q", "--allow-empty", "-m", "one")
    assert (p.top / ".git" / "user-hook-ran").read_text() == "ran\n"
    refused = p.git("commit", "-q", "--allow-empty", "-m", "two", env=dict(p.env, USER_HOOK_EXIT="3"), check=False)
    assert refused.rc != 0  # the user's hook's exit code still stops the commit
    write(p.data / "x.bin", b"untracked data does not stop a git commit")
    p.git("commit", "-q", "--allow-empty", "-m", "three")

    ok(p.ama("hooks", "uninstall"))
    after = os.stat(hook)
    assert hook.read_bytes() == original
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode) == 0o750
    assert not (hook.parent / ("pre-commit" + CHAINED)).exists()
    assert not any((hook.parent / name).exists() for name in HOOKS if name != "pre-commit")


def test_install_is_idempotent_and_force_rewrites_only_amas_hooks(project):
    p = project
    ok(p.ama("hooks", "install"))
    hooks = p.top / ".git" / "hooks"
    texts = {name: (hooks / name).read_bytes() for name in HOOKS}
    again = ok(p.ama("hooks", "install"))
    assert "already installed" in again.err
    assert {name: (hooks / name).read_bytes() for name in HOOKS} == texts
    ok(p.ama("hooks", "install", "--force"))
    assert not list(hooks.glob("*" + CHAINED))
    status = p.ama("hooks", "status")
    assert status.rc == 0 and "pre-commit:" in status.out and "not installed" not in status.out

    hook = hooks / "pre-commit"
    text = hook.read_text()
    assert f"ama_exe='{AMA}'" in text
    hook.write_text(text.replace(f"ama_exe='{AMA}'", "ama_exe='/nonexistent/ama'"))
    refused = p.git("commit", "-q", "--allow-empty", "-m", "x", env=dict(p.env, PATH="/usr/bin:/bin"), check=False)
    assert refused.rc != 0 and "the ama command is neither at /nonexistent/ama nor on PATH" in refused.err

    ok(p.ama("hooks", "uninstall"))
    assert p.ama("hooks", "status").rc == 1


def test_hooks_go_to_core_hooks_path(project):
    p = project
    p.git("config", "core.hooksPath", ".githooks")
    ok(p.ama("hooks", "install"))
    assert all((p.top / ".githooks" / name).exists() for name in HOOKS)
    assert not (p.top / ".git" / "hooks" / "pre-commit").exists()
    assert ".githooks" in ok(p.ama("hooks", "status")).out
    p.commit_data("v1", **{"a.bin": b"one"})
    replace_file(p.data / "a.bin", b"two")
    refused = p.git("commit", "-q", "--allow-empty", "-m", "x", check=False)
    assert refused.rc != 0 and "data/a.bin" in refused.err


def test_post_checkout_does_nothing_during_a_rebase(hooked):
    p = hooked
    v1_commit = p.head()
    p.commit_data("v2", **{"a.bin": b"alpha v2\n"})
    p.git("checkout", "-q", "-b", "side", v1_commit)
    assert (p.data / "a.bin").read_bytes() == b"alpha v1\n"
    (p.top / "side.txt").write_text("side\n")
    p.git("add", "side.txt")
    p.git("commit", "-qm", "side")
    # The rebase checks out main first (post-checkout runs, rebase-merge/
    # exists): the data must not move while git is still rebasing.
    p.git("rebase", "-q", "main")
    assert (p.data / "a.bin").read_bytes() == b"alpha v1\n"

    rebase_dir = p.top / ".git" / "rebase-apply"
    rebase_dir.mkdir()
    assert run_hook(p, "post-checkout", v1_commit, p.head(), "1").returncode == 0
    assert (p.data / "a.bin").read_bytes() == b"alpha v1\n"
    rebase_dir.rmdir()
    assert run_hook(p, "post-checkout", v1_commit, p.head(), "0").returncode == 0  # a file checkout
    assert (p.data / "a.bin").read_bytes() == b"alpha v1\n"
    assert run_hook(p, "post-checkout", v1_commit, p.head(), "1").returncode == 0
    assert (p.data / "a.bin").read_bytes() == b"alpha v2\n"


def test_post_merge_checks_out_the_merged_pin(hooked):
    p = hooked
    p.git("checkout", "-q", "-b", "topic")
    p.commit_data("v2", **{"a.bin": b"alpha v2\n"})
    p.git("checkout", "-q", "main")
    assert (p.data / "a.bin").read_bytes() == b"alpha v1\n"
    p.git("merge", "-q", "--ff-only", "topic")
    assert (p.data / "a.bin").read_bytes() == b"alpha v2\n"


def test_pre_push_uploads_staged_data_the_remote_lacks(hooked, tmp_path):
    p = hooked
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", remote, cwd=tmp_path, env=p.env)
    p.git("remote", "add", "origin", str(remote))
    write(p.data / "staged.bin", b"staged, not committed")
    ok(p.ama("add", "staged.bin"))
    digest = ok(p.ama("hash-object", "staged.bin")).out.strip()
    store = Path(p.env["AMA_HOME"]) / "store" / "objects" / digest[:2] / digest[2:]
    assert not store.exists()
    p.git("push", "-q", "origin", "main")
    assert store.exists()


def test_hooks_outside_git_is_a_clear_error(repo, ama):
    line = one_line_error(ama("hooks", "install"), 2)
    assert "not inside a git work tree" in line


def test_stat_check_pending_exit_code(repo, ama, ama_env):
    write(repo / "a.bin", b"1")
    ok(ama("add", "a.bin"))
    assert ama("stat-check", "--pending").rc == 0
    ama("commit", "-m", "one", env=dict(ama_env, AMA_FAILPOINT="after-pending"))
    r = ama("stat-check", "--pending")
    assert (r.rc, r.out) == (9, "pending\t.ama/PENDING\n")
    assert ama("stat-check").rc == 0


def test_one_set_of_hooks_serves_several_work_trees(project):
    p = project
    second = p.top / "models"
    second.mkdir()
    ok(run_ama("init", cwd=second, env=p.env))
    ok(p.ama("hooks", "install"))
    ok(p.ama("hooks", "install", cwd=second))
    hook = p.top / ".git" / "hooks" / "pre-commit"
    assert "# ama-worktree: data\n# ama-worktree: models\n" in hook.read_text()

    write(second / "m.bin", b"weights")
    ok(p.ama("add", "m.bin", cwd=second))
    replace_file(second / "m.bin", b"other weights")
    refused = p.git("commit", "-q", "--allow-empty", "-m", "x", check=False)
    assert refused.rc != 0 and "models/m.bin: modified since 'ama add'" in refused.err

    ok(p.ama("hooks", "uninstall"))
    assert "# ama-worktree: data\n" not in hook.read_text()
    assert p.ama("hooks", "status").rc == 1 and ok(p.ama("hooks", "status", cwd=second))
    ok(p.ama("hooks", "uninstall", cwd=second))
    assert not any((hook.parent / name).exists() for name in HOOKS)


def test_ignore_fast_path_agrees_with_dulwich_line_by_line():
    """A rule file first asks one regex made of all its patterns; it must
    say "match" exactly when one of dulwich's patterns matches."""
    from ama.ignore import _RuleFile

    patterns = (
        b"*.py[cod]\n__pycache__/\n/site\nbuild/\n*.egg-info/\n!keep.log\n*.log\n\\!bang\n\\#hash\na/**/b\n"
        b"**/foo\nfoo/**\n[a-c]?.txt\n!/dir/\ndir/*\n/only/root\nx\\ y\n!\n/\n"
    )
    names = [
        b"a.pyc", b"x/a.pyo", b"__pycache__", b"q/__pycache__", b"site", b"q/site", b"build", b"src/build",
        b"x.egg-info", b"keep.log", b"q/x.log", b"!bang", b"#hash", b"a/b", b"a/x/y/b", b"z/foo", b"foo",
        b"foo/bar", b"ab.txt", b"abc.txt", b"dir", b"dir/x", b"only/root", b"q/only/root", b"x y", b"A.PYC",
        b"data/f.bin",
    ]
    for ignorecase in (False, True):
        rules = _RuleFile("t", patterns, ignorecase)
        for name in names:
            for is_dir in (False, True):
                exact = any(p.matches(name, is_dir) for _, p in rules.rules)
                assert (rules.last_match(name, is_dir) is not None) == exact, (name, is_dir, ignorecase)

"""git's ignore rules and ama's data, with the real git command.

git's rules say what git leaves alone, which is exactly where the data goes:
they do not hide anything inside a directory ama tracks or is told to add
('echo data/ >> .gitignore' must not empty 'ama add data' or hide new data
from 'ama status'); .amaignore still does. Where the work-tree root is also
git's, 'ama status' lists untracked files only inside the directories ama
tracks and 'ama add .' takes nothing from outside them: the rest is the
project's code (train.py is not untracked data). status.showUntracked = all
lists everything. docs/git-integration.md, "Ignore rules".
"""

from __future__ import annotations

from conftest import ok, one_line_error, run_ama, write
from git_helpers import git_env, make_project


def shared_root(tmp_path, ama_env, gitignore: str = "data/\n"):
    """git and ama at the same root: train.py (code, in git), data/ ignored by git."""
    p = make_project(tmp_path, git_env(ama_env), subdir=None)
    write(p.top / ".gitignore", (p.top / ".gitignore").read_text() + gitignore)
    write(p.top / "train.py", "print('train')\n")
    p.git("add", ".gitignore", "train.py")
    p.git("commit", "-qm", "code")
    write(p.top / "data" / "a.csv", "x,y\n1,2\n")
    write(p.top / "data" / "sub" / "b.csv", "k,v\n")
    return p


def test_a_directory_git_ignores_is_added_and_new_data_in_it_is_seen(tmp_path, ama_env):
    p = shared_root(tmp_path, ama_env)
    added = ok(p.ama("add", "data"))
    assert "data/ is ignored by git (.gitignore:2:data/), which keeps it out of git; ama versions it" in added.err
    assert "added 2 file(s)" in added.err
    assert ok(p.ama("ls-files")).out.split() == ["data/a.csv", "data/sub/b.csv"]
    assert "data" not in p.git("status", "--porcelain").out  # git still leaves it alone

    write(p.top / "data" / "new.csv", "new\n")
    write(p.top / "data" / "more" / "c.csv", "c\n")
    status = ok(p.ama("status", "--porcelain")).out.splitlines()
    assert "?? data/new.csv" in status and "?? data/more/" in status
    # check-ignore tells the same: the rule is git's, the path is ama's data.
    assert p.ama("check-ignore", "data/new.csv").rc == 1
    assert ok(p.ama("check-ignore", "--no-index", "data/new.csv")).out == "data/new.csv\n"


def test_a_directory_inside_one_git_ignores_is_added_alone(tmp_path, ama_env):
    p = shared_root(tmp_path, ama_env)
    ok(p.ama("add", "data/sub"))
    assert ok(p.ama("ls-files")).out.split() == ["data/sub/b.csv"]
    write(p.top / "data" / "sub" / "c.csv", "c\n")
    # data/ holds a tracked path now: it is ama's, and what is new in it is listed.
    assert ok(p.ama("status", "--porcelain")).out.splitlines() == [
        "A  data/sub/b.csv", "?? data/a.csv", "?? data/sub/c.csv"]


def test_git_rules_do_not_hide_files_inside_tracked_directories_but_amaignore_does(tmp_path, ama_env):
    p = shared_root(tmp_path, ama_env, gitignore="*.csv\n*.tmp\n")
    ok(p.ama("add", "data"))  # git ignores every CSV: they are data, and added
    assert ok(p.ama("ls-files")).out.split() == ["data/a.csv", "data/sub/b.csv"]
    write(p.top / "data" / "run.tmp", "scratch\n")
    write(p.top / "data" / "c.csv", "c\n")
    write(p.top / "notes.tmp", "outside the data: git's rule still applies\n")
    untracked = [line for line in ok(p.ama("status", "--porcelain", "-uall")).out.splitlines() if line[:2] == "??"]
    assert untracked == ["?? data/c.csv", "?? data/run.tmp", "?? main.py", "?? train.py"]
    write(p.top / ".amaignore", "*.tmp\n")
    untracked = [line for line in ok(p.ama("status", "--porcelain", "-uall")).out.splitlines() if line[:2] == "??"]
    assert untracked == ["?? data/c.csv", "?? main.py", "?? train.py"]
    assert ok(p.ama("check-ignore", "-v", "data/run.tmp")).out == ".amaignore:1:*.tmp\tdata/run.tmp\n"


def test_status_in_a_shared_root_lists_untracked_files_only_inside_amas_directories(tmp_path, ama_env):
    p = shared_root(tmp_path, ama_env)
    ok(p.ama("add", "data"))
    ok(p.ama("commit", "-m", "v1"))
    write(p.top / "data" / "new.csv", "new\n")
    write(p.top / "eval.py", "print('eval')\n")
    write(p.top / "notebooks" / "x.ipynb", "{}\n")

    assert ok(p.ama("status", "--porcelain")).out == "?? data/new.csv\n"
    human = ok(p.ama("status")).out
    assert "data/new.csv" in human and "eval.py" not in human
    # eval.py, main.py, notebooks/, train.py
    assert "Not listed: 4 untracked path(s) outside the directories ama tracks" in human
    everything = ok(p.ama("status", "--porcelain", "-u", "all")).out.splitlines()
    assert everything == ["?? data/new.csv", "?? eval.py", "?? main.py", "?? notebooks/x.ipynb", "?? train.py"]
    assert ok(p.ama("status", "--porcelain", "eval.py")).out == "?? eval.py\n"  # named: shown

    ok(p.ama("config", "status.showUntracked", "all"))
    assert ok(p.ama("status", "--porcelain")).out.splitlines() == everything
    ok(p.ama("config", "status.showUntracked", "no"))
    assert ok(p.ama("status", "--porcelain")).out == ""
    assert "status.showUntracked must be one of no, normal, all" in one_line_error(
        p.ama("config", "status.showUntracked", "some"), 2)
    config = p.top / ".ama" / "config"
    config.write_text(config.read_text().replace("= no", "= some"))
    assert "status.showUntracked is 'some'" in one_line_error(p.ama("status"), 2)


def test_add_dot_in_a_shared_root_takes_only_amas_directories(tmp_path, ama_env):
    p = shared_root(tmp_path, ama_env)
    fresh = ok(p.ama("add", "."))
    # data/ is ignored by git and not yet ama's: named, it is added (below).
    assert "skipped 2 path(s) outside the directories ama tracks (main.py, train.py)" in fresh.err
    assert ok(p.ama("ls-files")).out == ""
    ok(p.ama("add", "data"))
    write(p.top / "data" / "new.csv", "new\n")
    write(p.top / "big.bin", b"\0" * 100)
    ok(p.ama("add", "big.bin"))  # a top-level file named: added
    write(p.top / "big.bin", b"\1" * 100)
    again = ok(p.ama("add", "-A"))
    assert "skipped 2 path(s) outside the directories ama tracks (main.py, train.py)" in again.err
    assert ok(p.ama("ls-files")).out.split() == ["big.bin", "data/a.csv", "data/new.csv", "data/sub/b.csv"]
    assert ok(p.ama("status", "--porcelain")).out.splitlines() == [
        "A  big.bin", "A  data/a.csv", "A  data/new.csv", "A  data/sub/b.csv"]
    # A tracked top-level file that became a symbolic link is named, not staged.
    (p.top / "big.bin").unlink()
    (p.top / "big.bin").symlink_to("train.py")
    assert "skipped big.bin: is a symbolic link" in ok(p.ama("add", ".")).err


def test_in_a_work_tree_below_git_git_rules_still_hide_files_outside_tracked_directories(tmp_path, ama_env):
    # The ama work tree is data/ inside the git work tree: its root-level
    # entries are decided by git's rules until ama tracks the directory.
    env = git_env(ama_env)
    p = make_project(tmp_path, env)
    write(p.top / ".gitignore", "*.tmp\n")
    write(p.data / "keep.bin", "k\n")
    write(p.data / "x.tmp", "x\n")
    write(p.data / "raw" / "y.tmp", "y\n")
    assert "?? x.tmp" not in ok(p.ama("status", "--porcelain", "-uall")).out
    ok(p.ama("add", "raw"))  # named: git's rules do not apply inside it
    assert ok(p.ama("ls-files")).out.split() == ["raw/y.tmp"]
    out = ok(run_ama("status", "--porcelain", "-uall", cwd=p.data, env=env)).out.splitlines()
    assert out == ["A  raw/y.tmp", "?? keep.bin"]

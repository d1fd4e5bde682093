"""checkout between versions where a file became a directory and back."""

from __future__ import annotations

from conftest import ok, one_line_error, run_ama
from txn_helpers import txn_env, write_files


def test_checkout_switches_a_file_to_a_directory_and_back(tmp_path):
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", "data", "--remote", tmp_path / "remote", cwd=work, env=env))
    write_files(work, {"d": "a file\n", "keep.txt": "kept\n"})
    ok(run_ama("add", ".", cwd=work, env=env))
    ok(run_ama("commit", "-m", "d is a file", cwd=work, env=env))
    ok(run_ama("rm", "d", cwd=work, env=env))
    write_files(work, {"d/x": "inside\n"})
    ok(run_ama("add", "d", cwd=work, env=env))
    ok(run_ama("commit", "-m", "d is a directory", cwd=work, env=env))

    ok(run_ama("checkout", "data/1/1", cwd=work, env=env))
    assert (work / "d").read_text() == "a file\n"
    ok(run_ama("checkout", "data/1/2", cwd=work, env=env))
    assert (work / "d" / "x").read_text() == "inside\n"
    assert "nothing to commit" in ok(run_ama("status", cwd=work, env=env)).out

    # An untracked file in the directory the file would replace: refused, untouched.
    write_files(work, {"d/mine.txt": "untracked\n"})
    line = one_line_error(run_ama("checkout", "data/1/1", cwd=work, env=env), 12)
    assert "d" in line
    assert (work / "d" / "x").read_text() == "inside\n" and (work / "d" / "mine.txt").exists()
    assert "version 2" in ok(run_ama("status", cwd=work, env=env)).out


def test_forced_checkout_over_hardlinked_files_leaves_no_temporary_names(tmp_path):
    # rename(2) is a no-op when both names are links to one inode: a forced
    # checkout of the version already there must still clean up.
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", "data", "--remote", tmp_path / "remote", cwd=work, env=env))
    write_files(work, {"a.txt": "a\n", "sub/b.txt": "b\n"})
    ok(run_ama("add", ".", cwd=work, env=env))
    ok(run_ama("commit", "-m", "one", cwd=work, env=env))
    ok(run_ama("checkout", "--force", "data/1/1", cwd=work, env=env))
    ok(run_ama("checkout", "--force", "data/1/1", cwd=work, env=env))
    leftovers = [p for p in work.rglob(".ama-tmp-*")]
    assert leftovers == []
    assert ok(run_ama("status", "--porcelain", cwd=work, env=env)).out == ""


def test_checkout_restores_the_exec_bit_of_an_unchanged_content(tmp_path):
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", "data", "--remote", tmp_path / "remote", cwd=work, env=env))
    write_files(work, {"run.sh": "echo hi\n"})
    (work / "run.sh").chmod(0o755)
    ok(run_ama("add", ".", cwd=work, env=env))
    ok(run_ama("commit", "-m", "executable", cwd=work, env=env))
    (work / "run.sh").chmod(0o644)
    ok(run_ama("add", "run.sh", cwd=work, env=env))
    ok(run_ama("commit", "-m", "not executable", cwd=work, env=env))

    ok(run_ama("checkout", "data/1/1", cwd=work, env=env))
    assert (work / "run.sh").stat().st_mode & 0o100
    assert ok(run_ama("diff", "--name-status", cwd=work, env=env)).out == ""
    ok(run_ama("checkout", "data/1/2", cwd=work, env=env))
    assert not (work / "run.sh").stat().st_mode & 0o100


def test_an_untracked_symlink_in_the_way_is_replaced_only_with_force(tmp_path):
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "target").write_text("not yours\n")
    ok(run_ama("init", "--class", "data", "--remote", tmp_path / "remote", cwd=work, env=env))
    write_files(work, {"a.txt": "a\n", "link": "a file in version 1\n"})
    ok(run_ama("add", ".", cwd=work, env=env))
    ok(run_ama("commit", "-m", "one", cwd=work, env=env))
    ok(run_ama("rm", "link", cwd=work, env=env))
    ok(run_ama("commit", "-m", "two", cwd=work, env=env))
    (work / "link").symlink_to(tmp_path / "target")

    line = one_line_error(run_ama("checkout", "data/1/1", cwd=work, env=env), 12)
    assert "link" in line and "symlink" in line
    assert (work / "link").is_symlink()
    ok(run_ama("checkout", "--force", "data/1/1", cwd=work, env=env))
    assert not (work / "link").is_symlink() and (work / "link").read_text() == "a file in version 1\n"
    assert (tmp_path / "target").read_text() == "not yours\n"


def test_an_ignored_file_in_the_way_is_not_overwritten(tmp_path):
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", "data", "--remote", tmp_path / "remote", cwd=work, env=env))
    write_files(work, {"a.txt": "a\n", "scratch.log": "version 1\n"})
    ok(run_ama("add", ".", cwd=work, env=env))
    ok(run_ama("commit", "-m", "one", cwd=work, env=env))
    ok(run_ama("rm", "scratch.log", cwd=work, env=env))
    ok(run_ama("commit", "-m", "two", cwd=work, env=env))
    write_files(work, {".amaignore": "*.log\n", "scratch.log": "my notes\n"})

    one_line_error(run_ama("checkout", "data/1/1", cwd=work, env=env), 12)
    assert (work / "scratch.log").read_text() == "my notes\n"

"""Where the docs and the behaviour once drifted apart: each test pins what
docs/ (exit-codes.md, change-detection.md, README.md) now say."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ok, one_line_error, run_ama, write

ROOT = Path(__file__).resolve().parent.parent


def test_a_name_that_is_not_a_version_name_is_a_usage_error(ama):
    for command in (("log", "nosuch"), ("show", "nosuch"), ("checkout", "nosuch"), ("rev-parse", "nosuch")):
        line = one_line_error(ama(*command), 2)
        assert "'nosuch' is not a version name" in line


def test_an_id_prefix_that_names_nothing_is_not_found(ama):
    one_line_error(ama("show", "deadbeef"), 11)


def test_a_directory_for_dash_c_that_cannot_be_entered_is_a_usage_error(ama, tmp_path):
    line = one_line_error(ama("-C", tmp_path / "nonexistent", "status"), 2)
    assert line.startswith("ama status: cannot change to ") and "No such file or directory" in line


@pytest.mark.parametrize(
    "argv, start",
    [
        (("status", "--bogus"), "ama status: unrecognized arguments: --bogus"),
        (("--bogus",), "ama: unrecognized arguments: --bogus"),
        (("commit", "--resume", "--abort"), "ama commit: argument --abort: not allowed with argument --resume"),
        (("nosuchcmd",), "ama: 'nosuchcmd' is not an ama command"),
        (("status", "-u", "maybe"), "ama status: argument -u/--untracked-files: invalid choice"),
    ],
)
def test_a_command_line_mistake_is_one_line(ama, argv, start):
    line = one_line_error(ama(*argv), 2)
    assert line.startswith(start), line
    assert line.endswith("--help')")


def test_config_refuses_a_key_ama_does_not_read_and_lists_the_known_ones(ama, repo):
    before = (repo / ".ama" / "config").read_bytes()
    line = one_line_error(ama("config", "user.nmae", "Jo"), 2)
    assert "unknown config key 'user.nmae'" in line
    assert "user.name" in line and "core.linkmode" in line and "remote.NAME.url" in line
    one_line_error(ama("config", "foo.bar", "x"), 2)
    assert (repo / ".ama" / "config").read_bytes() == before


def test_every_key_ama_reads_can_be_set():
    """A key read anywhere in ama/ (config.get("a.b"), f"remote.{name}.c") is
    one 'ama config' accepts: a new option must be added to its list."""
    from ama.porcelain.config import check_known

    reads = set()
    for path in (ROOT / "ama").rglob("*.py"):
        text = path.read_text()
        reads |= set(re.findall(r"config\.get\(\s*f?[\"']([a-z]+\.[a-zA-Z0-9_.{}]+)[\"']", text))
    reads = {key.replace("{name}", "origin") for key in reads} - {"core.linkused"}
    assert "remote.origin.url" in reads and "core.remote" in reads
    for key in sorted(reads):
        check_known(key)


def test_user_name_and_email_in_config_are_the_commit_author(ama, ama_env, repo):
    env = {k: v for k, v in ama_env.items() if k not in ("AMA_AUTHOR_NAME", "AMA_AUTHOR_EMAIL")}
    ok(ama("config", "user.name", "Jo Quinn", env=env))
    ok(ama("config", "user.email", "jo@example.org", env=env))
    write(repo / "a.txt", "a\n")
    ok(ama("add", "a.txt", env=env))
    ok(ama("commit", "-m", "first", env=env))
    commit = ok(ama("rev-parse", "--local", "HEAD", env=env)).out.strip()
    assert "author Jo Quinn <jo@example.org> " in ok(ama("cat-file", "-p", commit, env=env)).out


def test_status_asks_the_remote_only_in_the_human_view_and_only_for_damage(tmp_path, ama_env):
    work = tmp_path / "w"
    work.mkdir()
    ok(run_ama("init", "--remote", tmp_path / "remote", "--linkmode", "hardlink", cwd=work, env=ama_env))
    write(work / "v.bin", b"original " * 50)
    ok(run_ama("add", "v.bin", cwd=work, env=ama_env))
    ok(run_ama("commit", "-m", "v1", cwd=work, env=ama_env))
    assert "the remote" not in ok(run_ama("status", cwd=work, env=ama_env)).out
    with open(work / "v.bin", "r+b") as f:
        f.write(b"EDITED!!")
    assert "the remote has the original" in ok(run_ama("status", cwd=work, env=ama_env)).out
    # A remote that cannot be reached: the porcelain view never notices.
    shutil.rmtree(tmp_path / "remote")
    (tmp_path / "remote").write_text("not a directory\n")
    assert ok(run_ama("status", "--porcelain", cwd=work, env=ama_env)).out == " X v.bin\n"
    assert "the remote could not be asked" in ok(run_ama("status", cwd=work, env=ama_env)).out


def _venv_bin() -> Path:
    return Path(sys.executable).parent


@pytest.mark.skipif(shutil.which("man") is None, reason="no man command")
def test_man_finds_the_pages_of_the_venv_on_path():
    """README: after 'make install', with .venv/bin on PATH, 'man ama-status' works."""
    env = {"PATH": f"{_venv_bin()}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
    p = subprocess.run(["man", "-w", "ama-status"], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert Path(p.stdout.strip()).resolve() == (_venv_bin().parent / "share/man/man1/ama-status.1").resolve()


def test_the_runtime_install_target_pulls_no_test_or_lint_tools():
    makefile = (ROOT / "Makefile").read_text()
    demo = re.search(r"^demo: (.*)$", makefile, re.M).group(1)
    assert demo.split() == ["install-runtime"]
    runtime_rule = makefile.split("$(BIN)/ama: ", 1)[1].split("\n\n", 1)[0]
    assert "[test]" not in runtime_rule and "pip install -q -e . " in runtime_rule
    assert re.search(r"^test: install$", makefile, re.M)
    readme = (ROOT / "README.md").read_text()
    assert "make install-runtime" in readme and "man ama-status" in readme


def test_the_repository_cites_no_design_file_outside_it():
    out = subprocess.run(
        ["git", "grep", "-l", "-e", "DESIGN.md", "-e", "STYLE.md", "--", ".", ":!tests/test_docs_match_behaviour.py"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 1 and out.stdout == "", out.stdout
    assert (ROOT / "docs" / "design.md").is_file()

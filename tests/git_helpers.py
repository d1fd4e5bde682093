"""Helpers for the tests that act as a user of git and ama together: run the
real ``git`` command in an isolated environment (HOME, author, no system
config), make a git repository with an ama work tree inside it."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from conftest import Result, ok, run_ama

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Git User",
    "GIT_AUTHOR_EMAIL": "git@example.com",
    "GIT_COMMITTER_NAME": "Git User",
    "GIT_COMMITTER_EMAIL": "git@example.com",
}


def git_env(ama_env: dict[str, str], **extra: str) -> dict[str, str]:
    """``ama_env`` (HOME and AMA_HOME are temp dirs, no system git config)
    plus what git needs to commit without asking, and no pager or editor."""
    home = ama_env["HOME"]
    env = dict(ama_env, XDG_CONFIG_HOME=os.path.join(home, ".config"), GIT_PAGER="cat", GIT_EDITOR="true",
               GIT_TERMINAL_PROMPT="0", **GIT_IDENTITY)
    env.update(extra)
    return env


def git(*args: str | os.PathLike, cwd: os.PathLike | str, env: dict[str, str], check: bool = True) -> Result:
    p = subprocess.run(["git", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    result = Result(p.returncode, p.stdout, p.stderr)
    if check:
        assert p.returncode == 0, f"git {' '.join(map(str, args))}: rc={p.returncode} stderr={p.stderr!r}"
    return result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file and rename it over ``path``, as editors
    do, so the hardlinked copy in ama's store is left alone."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class GitProject:
    """A git repository at ``top`` with an ama work tree at ``data`` (the
    top itself or a subdirectory), both driven through their commands."""

    def __init__(self, top: Path, data: Path, env: dict[str, str]):
        self.top = top
        self.data = data
        self.env = env

    def git(self, *args, check: bool = True, **kw) -> Result:
        return git(*args, cwd=kw.pop("cwd", self.top), env=kw.pop("env", self.env), check=check)

    def ama(self, *args, cwd: os.PathLike | str | None = None, env: dict[str, str] | None = None) -> Result:
        return run_ama(*args, cwd=cwd or self.data, env=env or self.env)

    def commit_data(self, message: str, **files: bytes) -> None:
        """Write ``files`` into the ama work tree, add and commit them with ama,
        then commit the pointer file to git."""
        for name, data in files.items():
            path = self.data / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                replace_file(path, data)
            else:
                path.write_bytes(data)
        ok(self.ama("add", *files))
        ok(self.ama("commit", "-m", message))
        self.git("add", self.data / ".ama-asset")
        self.git("commit", "-qm", f"data: {message}")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").out.strip()


def make_project(tmp_path: Path, env: dict[str, str], subdir: str | None = "data") -> GitProject:
    """git init at tmp_path/proj with one committed code file, and ama init
    in ``subdir`` (None: at the top)."""
    top = tmp_path / "proj"
    top.mkdir()
    git("init", "-q", "-b", "main", cwd=top, env=env)
    (top / "main.py").write_text("print('hello')\n")
    git("add", "main.py", cwd=top, env=env)
    git("commit", "-qm", "code", cwd=top, env=env)
    data = top / subdir if subdir else top
    data.mkdir(exist_ok=True)
    ok(run_ama("init", cwd=data, env=env))
    return GitProject(top, data, env)

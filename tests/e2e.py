"""Helpers for the end-to-end tests of the history and remote commands: a
work tree bound to its environment, so a test reads as the commands a user
types. Everything runs the installed ``ama`` through ``conftest.run_ama``."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import Result, isolated_env, ok, run_ama, write

# Fixed identity and time: commit ids are reproducible, dates are known.
AUTHOR = "Test Author <test@example.com>"
DATE = "1700000000 +0100"
DATE_SHOWN = "2023-11-14 23:13:20 +0100"
DATE_UTC = "2023-11-14 22:13:20 +0000"


def make_env(home: Path | str, **extra: str) -> dict[str, str]:
    return isolated_env(home, AMA_AUTHOR_DATE=DATE, **extra)


class Work:
    """A work tree (maybe not initialised yet) and the environment its
    commands run in: ``w("log")`` runs ``ama log`` there."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root = root
        self.env = env
        root.mkdir(parents=True, exist_ok=True)

    def __call__(self, *args: str | os.PathLike, **kw) -> Result:
        kw.setdefault("env", self.env)
        return run_ama(*args, cwd=self.root, **kw)

    def ok(self, *args: str | os.PathLike, **kw) -> Result:
        return ok(self(*args, **kw))

    def lines(self, *args: str | os.PathLike, **kw) -> list[str]:
        return self.ok(*args, **kw).out.splitlines()

    def write(self, rel: str, data: bytes | str) -> Path:
        return write(self.root / rel, data)

    def commit(self, message: str, *paths: str) -> None:
        """``ama add PATHS`` (if any), then ``ama commit``."""
        if paths:
            self.ok("add", *paths)
        self.ok("commit", "-m", message)

    def clone(self, name: str, directory: str) -> Work:
        """``ama clone NAME DIR`` run from this work tree's parent."""
        ok(run_ama("clone", name, directory, cwd=self.root.parent, env=self.env))
        return Work(self.root.parent / directory, self.env)


def object_path(work: Work, digest: str) -> Path:
    return work.root / ".ama" / "objects" / digest[:2] / digest[2:]

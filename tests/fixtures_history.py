"""Fixtures of the history, remote-command and gc tests, loaded by their
modules as a plugin (``pytest_plugins = ["fixtures_history"]``) so that the
session-scoped ``history`` is built once for all of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e import Work, make_env


@pytest.fixture
def e2e_env(tmp_path: Path) -> dict[str, str]:
    """An isolated environment (conftest.isolated_env) with the author date
    fixed too; its remote is the per-user store under ``tmp_path/home``."""
    home = tmp_path / "home"
    home.mkdir()
    return make_env(home)


@pytest.fixture
def e2e_work(tmp_path: Path, e2e_env: dict[str, str]) -> Work:
    """An initialised work tree of class ``data`` with a fresh remote."""
    w = Work(tmp_path / "data", e2e_env)
    w.ok("init")
    return w


@dataclass
class History:
    """A remote holding data/1 (three versions) and raw/1 (one), read-only.

    data/1/1  a.txt, d/b.bin                     "first"
    data/1/2  a.txt changed, d/c.bin added        "second"
    data/1/3  d/b.bin removed, input raw/1/1      "third" + a body line
    """

    home: Path
    env: dict[str, str]
    data: Work
    raw: Work
    ids: dict[int, str]  # version -> commit id of data/1
    raw_id: str


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    base = tmp_path_factory.mktemp("history")
    home = base / "home"
    home.mkdir()
    env = make_env(home)
    data = Work(base / "data", env)
    data.ok("init")
    data.write("a.txt", "alpha\n")
    data.write("d/b.bin", b"b" * 1000)
    data.commit("first", "a.txt", "d")
    (data.root / "a.txt").write_text("alpha, second take\n")
    data.write("d/c.bin", b"c" * 300)
    data.commit("second", "a.txt", "d")
    raw = Work(base / "raw", env)
    raw.ok("init")
    raw.write("r.csv", "x,y\n1,2\n")
    raw.commit("raw data", "r.csv")
    data.ok("rm", "d/b.bin")
    data.ok("inputs", "add", "raw/1")
    data.commit("third\n\nbody line")
    ids = data.lines("rev-parse", "data/1/1", "data/1/2", "data/1/3", "raw/1/1")
    return History(home, env, data, raw, dict(enumerate(ids[:3], start=1)), ids[3])

"""``.ama/INPUTS``: the versions the next commit records as its inputs
(lineage), edited by ``ama inputs`` and cleared by a commit."""

from __future__ import annotations

import os

from .fsutil import atomic_write
from .repo import Repo


def inputs_path(repo: Repo) -> str:
    return repo.path("INPUTS")


def read_inputs(repo: Repo) -> list[list[str]]:
    try:
        with open(inputs_path(repo)) as f:
            return [line.split() for line in f.read().splitlines() if line.strip()]
    except FileNotFoundError:
        return []


def write_inputs(repo: Repo, inputs: list[list[str]]) -> None:
    atomic_write(inputs_path(repo), "".join(f"{name} {commit}\n" for name, commit in sorted(inputs)).encode())


def clear_inputs(repo: Repo) -> None:
    try:
        os.unlink(inputs_path(repo))
    except FileNotFoundError:
        pass

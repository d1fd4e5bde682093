"""``.ama/INPUTS``: the versions the next commit records as its inputs
(lineage), edited by ``ama inputs`` and cleared by a commit."""

from __future__ import annotations

import os

from . import records
from .errors import Corrupt
from .fsutil import atomic_write
from .repo import Repo


def inputs_path(repo: Repo) -> str:
    return repo.path("INPUTS")


def read_inputs(repo: Repo) -> list[list[str]]:
    """The recorded inputs, each [CLASS/SEQ/N, commit id]; a damaged
    ``.ama/INPUTS`` is Corrupt naming it (it must never reach a commit)."""
    try:
        with open(inputs_path(repo), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    inputs = []
    for n, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            name, commit_id = (f.decode("ascii") for f in fields) if len(fields) == 2 else ("", "")
        except UnicodeDecodeError:
            name = commit_id = ""
        if not (records.input_name_ok(name) and records.is_hex64(commit_id)):
            raise Corrupt(
                f".ama/INPUTS is damaged (line {n}: expected CLASS/SEQ/N and a commit id); "
                f"remove it (rm .ama/INPUTS) and record the inputs again with 'ama inputs add'"
            )
        inputs.append([name, commit_id])
    return inputs


def write_inputs(repo: Repo, inputs: list[list[str]]) -> None:
    atomic_write(inputs_path(repo), "".join(f"{name} {commit}\n" for name, commit in sorted(inputs)).encode())


def clear_inputs(repo: Repo) -> None:
    try:
        os.unlink(inputs_path(repo))
    except FileNotFoundError:
        pass

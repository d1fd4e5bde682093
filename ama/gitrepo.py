"""The git repository around a work tree, if any, seen through dulwich.

dulwich is imported only here and only when a ``.git`` is found above the
work tree, so repositories outside git never pay for it.
"""

from __future__ import annotations

import os


def find_git_dir(start: str) -> str | None:
    """The work-tree root of the git repository containing ``start``."""
    here = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def open_git(start: str):
    root = find_git_dir(start)
    if root is None:
        return None
    from dulwich.repo import Repo as GitRepo

    try:
        return GitRepo(root)
    except Exception:
        return None


def note_git_init(repo, quiet: bool = False) -> None:
    """Inside a git work tree, make git ignore ``.ama/`` (only that: the data
    files stay the user's decision) and say so."""
    git_root = find_git_dir(repo.root)
    if git_root is None:
        return
    from dulwich.ignore import IgnoreFilterManager

    from . import ui

    git = open_git(repo.root)
    rel = os.path.relpath(os.path.join(repo.root, ".ama"), git_root)
    if git is not None:
        try:
            if IgnoreFilterManager.from_repo(git).is_ignored(rel + "/"):
                return
        except Exception:  # noqa: BLE001 - a malformed ignore file must not stop init
            pass
    path = os.path.join(repo.root, ".gitignore")
    try:
        with open(path, "rb") as f:
            existing = f.read()
    except FileNotFoundError:
        existing = b""
    line = b"/.ama/\n"
    with open(path, "ab") as f:
        if existing and not existing.endswith(b"\n"):
            f.write(b"\n")
        f.write(line)
    if not quiet:
        ui.info(
            f"git repository found at {git_root}: added '/.ama/' to {os.path.relpath(path)} "
            "(your data files are not ignored: that stays your decision)"
        )


def pointer_staging_note(repo) -> str | None:
    """After a commit moved ``.ama-asset``, inside a git work tree: stage it
    with git (``core.autostage = true``, through dulwich) and say so, or say
    the command that stages it. None outside git or when git already has it."""
    git_root = find_git_dir(repo.root)
    if git_root is None:
        return None
    from .pointer import POINTER_FILE

    path = os.path.join(repo.root, POINTER_FILE)
    shown = os.path.relpath(path)
    if (repo.config.get("core.autostage") or "false").lower() == "true":
        from dulwich import porcelain

        porcelain.add(git_root, paths=[path])
        return f"staged {shown} in git (core.autostage): 'git commit' pins this version"
    return f"to pin this version in git, stage the pointer: git add {shown}"

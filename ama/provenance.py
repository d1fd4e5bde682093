"""What a commit records about where it was made: the git HEAD, branch and
whether the git work tree was dirty, when the ama work tree is inside git."""

from __future__ import annotations

from .gitrepo import open_git


def collect(root: str) -> dict:
    git = open_git(root)
    if git is None:
        return {}
    meta: dict = {}
    try:
        meta["git.commit"] = git.head().decode()
    except KeyError:
        meta["git.commit"] = None
    try:
        target = git.refs.follow(b"HEAD")[0]
        ref = target[-1] if target else b""
        meta["git.branch"] = ref.decode().removeprefix("refs/heads/") if ref.startswith(b"refs/heads/") else None
    except Exception:
        meta["git.branch"] = None
    meta["git.dirty"] = _dirty(git)
    return meta


def _dirty(git) -> bool:
    """Tracked files changed (staged or not) relative to the git HEAD.

    Untracked files do not count (as in ``git describe --dirty``), and git's
    index is only read: ama is a guest in the git repository and never
    refreshes git's stat cache behind its back."""
    from dulwich import porcelain

    try:
        status = porcelain.status(git, untracked_files="no", optional_locks=False)
    except Exception:
        return True
    staged = any(status.staged[k] for k in status.staged)
    return bool(staged or status.unstaged)

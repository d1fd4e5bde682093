"""Views of the work tree shared by porcelain commands: what is staged
relative to the last commit, and untracked paths collapsed by directory."""

from __future__ import annotations

from .errors import NotFound
from .index import Index
from .objects import Commit, walk_tree
from .repo import Repo


def head_commit(repo: Repo, commit_id: str) -> Commit:
    """HEAD's commit from the local store. It can be missing where HEAD came
    from ``.ama-asset`` (a fresh 'ama init' in a tree git checked out): that
    is NotFound naming the way out, not a bare object id."""
    try:
        data = repo.store.read_bytes(commit_id)
    except NotFound:
        raise NotFound(
            f"HEAD's commit {commit_id} is not in the local store (the work tree's .ama-asset names a "
            "version this repository never fetched): 'ama fetch' gets it from the remote"
        ) from None
    return Commit.parse(data, commit_id)


def head_files(repo: Repo, commit_id: str | None) -> dict[str, str]:
    """path -> content id of every file in a commit (empty if none)."""
    if not commit_id:
        return {}
    commit = head_commit(repo, commit_id)
    return {path: entry.digest for path, entry in walk_tree(repo.store.read_bytes, commit.tree)}


def staged_changes(repo: Repo, index: Index, commit_id: str | None) -> list[tuple[str, str]]:
    """(code, path) for every staged difference from ``commit_id``: A, M or D."""
    if commit_id and index.tree:
        if head_commit(repo, commit_id).tree == index.tree:
            return []
    committed = head_files(repo, commit_id)
    changes = []
    for path, digest in index.digests():
        old = committed.get(path)
        if old is None:
            changes.append(("A", path))
        elif old != digest:
            changes.append(("M", path))
    changes.extend(("D", path) for path in committed if path not in index)
    changes.sort(key=lambda c: c[1])
    return changes


def staged_renames(repo: Repo, index: Index, commit_id: str | None, staged: list[tuple[str, str]]) -> dict[str, str]:
    """new path -> old path for each staged deletion that has a staged
    addition of the same content id (pairs in path order)."""
    gone = [p for c, p in staged if c == "D"]
    new = [p for c, p in staged if c == "A"]
    if not (gone and new):
        return {}
    committed = head_files(repo, commit_id)
    by_id: dict[str, list[str]] = {}
    for path in gone:
        by_id.setdefault(committed[path], []).append(path)
    renames = {}
    for path in new:
        olds = by_id.get(index.digest(path))
        if olds:
            renames[path] = olds.pop(0)
    return renames


def tracked_dirs(paths) -> set[str]:
    dirs: set[str] = set()
    for path in paths:
        while "/" in path:
            path = path.rsplit("/", 1)[0]
            if path in dirs:
                break
            dirs.add(path)
    return dirs


def collapse_untracked(untracked: list[str], tracked: set[str]) -> list[str]:
    """Show a wholly untracked directory as 'dir/' instead of its files."""
    shown: list[str] = []
    last = None
    for path in untracked:
        parts = path.split("/")
        top = path
        for depth in range(1, len(parts)):
            d = "/".join(parts[:depth])
            if d not in tracked:
                top = d + "/"
                break
        if top != last:
            shown.append(top)
            last = top
    return shown

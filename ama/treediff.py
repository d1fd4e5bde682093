"""Differences between two trees: added, removed and modified paths.

Trees are compared level by level. A subtree whose id is the same on both
sides holds the same files, so it is skipped without being read: comparing
two versions of a large asset that differ in one directory reads only the
trees on the path to that directory (and none of the contents, ever).

The work tree is compared by the same code: its files (the index, overlaid
with what changed since) are built into trees in memory with
``objects.build_trees``, which gives unchanged directories the very ids
they have in the version they came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import Corrupt
from .hashing import hash_bytes
from .objects import MAX_DEPTH, TreeEntry, build_trees, parse_tree, walk_tree

ADDED = "A"
REMOVED = "D"
MODIFIED = "M"
RENAMED = "R"

Reader = Callable[[str], bytes]


@dataclass(frozen=True)
class Change:
    status: str  # ADDED, REMOVED, MODIFIED or (from find_renames) RENAMED
    path: str  # for a rename, the new path
    old_size: int | None = None
    new_size: int | None = None
    old_id: str | None = None
    new_id: str | None = None
    old_path: str | None = None  # a rename's old path


def diff_trees(read: Reader, old: str | None, new: str | None) -> list[Change]:
    """Every file that differs between tree ``old`` and tree ``new`` (None:
    the empty tree), sorted by path. Content or exec-bit changes are
    modifications."""
    changes: list[Change] = []
    _diff(read, old, new, "", changes)
    changes.sort(key=lambda c: c.path.encode())
    return changes


def _entries(read: Reader, tree_id: str | None) -> dict[str, TreeEntry]:
    if tree_id is None:
        return {}
    return {e.name: e for e in parse_tree(read(tree_id), tree_id)}


def _diff(read: Reader, old: str | None, new: str | None, prefix: str, out: list[Change]) -> None:
    if old == new:
        return
    if prefix.count("/") > MAX_DEPTH:
        raise Corrupt(f"tree {new or old} is nested deeper than {MAX_DEPTH} directories")
    a, b = _entries(read, old), _entries(read, new)
    for name in sorted(a.keys() | b.keys()):
        x, y = a.get(name), b.get(name)
        path = prefix + name
        if x is not None and y is not None and x.digest == y.digest and x.mode == y.mode:
            continue
        if x is not None and y is not None and x.kind == y.kind == "tree":
            _diff(read, x.digest, y.digest, path + "/", out)
        elif x is not None and y is not None and x.kind != "tree" and y.kind != "tree":
            # Files and references (docs/references.md) alike.
            out.append(Change(MODIFIED, path, x.size, y.size, x.digest, y.digest))
        else:
            # Present on one side only, or a file on one side and a
            # directory on the other.
            if x is not None:
                out.extend(Change(REMOVED, p, old_size=e.size, old_id=e.digest) for p, e in _files(read, x, path))
            if y is not None:
                out.extend(Change(ADDED, p, new_size=e.size, new_id=e.digest) for p, e in _files(read, y, path))


def find_renames(changes: list[Change]) -> list[Change]:
    """``changes`` with each removed path that has an added path of the same
    content id shown as one rename (old -> new). Several candidates pair in
    path order. Sorted by path (the new path, for a rename)."""
    added: dict[str, list[Change]] = {}
    for c in changes:
        if c.status == ADDED:
            added.setdefault(c.new_id, []).append(c)
    paired: set[str] = set()
    out: list[Change] = []
    for c in changes:
        if c.status == REMOVED and added.get(c.old_id):
            new = added[c.old_id].pop(0)
            paired.add(new.path)
            out.append(Change(RENAMED, new.path, c.old_size, new.new_size, c.old_id, new.new_id, c.path))
        elif c.status != ADDED:
            out.append(c)
    out.extend(c for c in changes if c.status == ADDED and c.path not in paired)
    out.sort(key=lambda c: c.path.encode())
    return out


def _files(read: Reader, entry: TreeEntry, path: str):
    if entry.kind == "tree":
        return list(walk_tree(read, entry.digest, path + "/"))
    return [(path, entry)]


class MemoryTrees:
    """Trees built in memory (never stored), readable like stored ones."""

    def __init__(self, fallback: Reader):
        self.objects: dict[str, bytes] = {}
        self.fallback = fallback

    def build(self, files: dict[str, tuple[str, int, int]], refs=()) -> str:
        """The root tree id of ``files`` (path -> (digest, size, st_mode));
        the paths in ``refs`` are references."""
        return build_trees(files, self._write, refs)

    def _write(self, data: bytes) -> str:
        digest = hash_bytes(data)
        self.objects[digest] = data
        return digest

    def read(self, digest: str) -> bytes:
        data = self.objects.get(digest)
        return data if data is not None else self.fallback(digest)


def worktree_files(repo, index) -> dict[str, tuple[str, int, int]]:
    """path -> (digest, size, st_mode) of the tracked files as they are now:
    the index, overlaid with what stat-check finds changed since. Files
    changed since they were staged are hashed; deleted ones (and those no
    longer regular files) are left out; a renamed one is at its new path."""
    from .hashing import hash_paths
    from .statcheck import DAMAGED, MODIFIED, RENAMED, apply_refresh, check

    report = check(repo, index)
    apply_refresh(repo, report)
    files = {path: (digest, size, mode) for path, digest, size, mode in index.files()}
    for path, (digest, st) in report.refreshed.items():
        files[path] = (digest, st.st_size, st.st_mode)
    to_hash = []
    for change in report.changes:
        if change.state in (MODIFIED, DAMAGED):
            to_hash.append(change.path)
        else:
            files.pop(change.path, None)
            if change.state == RENAMED and change.new_path:
                to_hash.append(change.new_path)
    for path, digest, st in hash_paths([(repo.abspath(p), p) for p in to_hash], tolerant=True):
        if digest is None:
            files.pop(path, None)
        else:
            files[path] = (digest, st.st_size, st.st_mode)
    return files

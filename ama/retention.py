"""Which contents the local store must keep, and which a remote can hold alone.

Every committed version lives on the remote; the local store only needs the
contents this work tree uses. ``plan`` sorts the store's contents into:

- **needed**: named by the index (the checked-out and staged files), by a
  pending commit (not yet pushed) or by a version inside the kept window:
  the current version (HEAD), the ``keep`` newest versions of each local
  ref's history, and every version committed less than ``keep_days`` ago;
- **older**: named only by versions outside that window. These are what
  ``ama prune`` may remove, once the remote is verified to hold each one.

Trees and commits are always kept (they are small, and ``log``/``diff``
read them); objects no version names are ``gc``'s business, not this one's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import failpoint
from .checkout import MARKER
from .errors import UsageError
from .index import Index
from .objects import Commit, object_type, reachable
from .pending import Pending
from .refs import list_refs, read_head
from .repo import Repo

DAY = 86400


def refuse_shared_store(repo: Repo, command: str) -> None:
    """gc and prune remove from the store what this work tree does not
    use; a store set by ``core.objects`` may serve others they cannot see."""
    if repo.config.get("core.objects"):
        raise UsageError(
            f"core.objects puts the store at {repo.objects_dir}, which other work trees may share; "
            f"{command} cannot see what they use, so it does not run there"
        )


@dataclass
class Plan:
    needed: set[str] = field(default_factory=set)  # contents kept whatever the remote holds
    older: dict[str, int] = field(default_factory=dict)  # content -> size in the store, removable
    older_versions: list[str] = field(default_factory=list)  # "class/seq/n" of versions outside the window
    kept_versions: list[str] = field(default_factory=list)
    tracked: dict[str, int] = field(default_factory=dict)  # content -> size, named by the index


def plan(repo: Repo, index: Index, pending: Pending | None, keep: int, keep_days: float, now: float) -> Plan:
    """Sort the local store's contents into needed and older (see module doc)."""
    store = repo.store
    result = Plan()
    for _path, digest, size, _mode in index.files():
        result.tracked[digest] = size
    result.needed |= set(result.tracked)
    window_roots: list[str] = []
    if pending is not None:
        window_roots += [c for c in (pending.commit, pending.parent) if c]
        result.needed |= reachable(store, trees=[pending.tree]).contents
    head = read_head(repo)
    if head.commit:
        window_roots.append(head.commit)
    marker = _checkout_marker(repo)
    if marker:
        window_roots.append(marker)

    commits: dict[str, Commit] = {}
    inside: set[str] = set(window_roots)
    for tip in [*window_roots, *list_refs(repo).values()]:
        for depth, (commit_id, commit) in enumerate(_history(repo, tip)):
            commits[commit_id] = commit
            if depth < keep or commit.time >= now - keep_days * DAY:
                inside.add(commit_id)
    kept = inside & commits.keys()
    older = commits.keys() - inside
    result.kept_versions = [_name(commits[c]) for c in kept]
    result.older_versions = [_name(commits[c]) for c in older]
    result.needed |= reachable(store, trees=[commits[c].tree for c in kept]).contents
    for digest in reachable(store, trees=[commits[c].tree for c in older]).contents - result.needed:
        try:
            result.older[digest] = os.lstat(store.path(digest)).st_size
        except FileNotFoundError:
            continue
    result.kept_versions.sort(key=_version_order)
    result.older_versions.sort(key=_version_order)
    return result


def _version_order(name: str) -> tuple[str, int]:
    asset, _, n = name.rpartition("/")
    return asset, int(n) if n.isdigit() else 0


def _name(commit: Commit) -> str:
    return f"{commit.asset}/{commit.version}"


def _history(repo: Repo, tip: str):
    """(id, commit) from ``tip`` back through its parents, while stored here."""
    store = repo.store
    commit_id: str | None = tip
    while commit_id and store.has(commit_id):
        commit = Commit.parse(store.read_bytes(commit_id), commit_id)
        yield commit_id, commit
        commit_id = commit.parent


def _checkout_marker(repo: Repo) -> str | None:
    try:
        with open(repo.path(MARKER)) as f:
            return f.read().strip() or None
    except FileNotFoundError:
        return None


def remove_contents(repo: Repo, digests: dict[str, int]) -> tuple[int, int, int]:
    """Unlink each content from the store; (removed, bytes freed, still linked)."""
    removed = freed = linked = 0
    for digest in sorted(digests):
        path = repo.store.path(digest)
        try:
            st = os.lstat(path)
            os.unlink(path)
        except FileNotFoundError:
            continue
        failpoint.hit("prune-removed")
        removed += 1
        if st.st_nlink > 1:
            linked += 1
        else:
            freed += st.st_size
    return removed, freed, linked


@dataclass
class Shortfall:
    """A content the remote does not hold as it should."""

    digest: str
    problem: str  # "missing", "size 12 instead of 40", "damaged (hashes to ...)"


def check_remote_holds(remote, sizes: dict[str, int], by_hash: bool, jobs: int) -> list[Shortfall]:
    """The contents of ``sizes`` (digest -> size) that ``remote`` does not hold
    intact: absent, of another size, or (with ``by_hash``) whose bytes hash
    to something else. Checked in parallel, a bounded number at a time."""
    from .parallel import run_bounded
    from .remote.base import short

    present = remote.has_objects(sizes)
    problems = [Shortfall(d, "missing") for d in sorted(sizes.keys() - present)]

    def check(digest: str) -> str | None:
        if by_hash:
            actual = remote.hash_object(digest)
            return None if actual == digest else f"damaged (its bytes hash to {short(actual)})"
        size = remote.object_size(digest)
        if size is None:
            return "missing"
        return None if size == sizes[digest] else f"{size} bytes instead of {sizes[digest]}"

    for digest, problem in run_bounded(check, sorted(present), jobs):
        if problem:
            problems.append(Shortfall(digest, problem))
    problems.sort(key=lambda s: s.digest)
    return problems


@dataclass
class Usage:
    """What the local store holds, by what it is for (``ama du``)."""

    tracked: tuple[int, int] = (0, 0)  # (count, bytes) of contents the index names
    shared: int = 0  # bytes of those that are also work-tree files (hardlinks)
    pending: tuple[int, int] = (0, 0)  # contents of kept versions / a pending commit, not staged
    older: tuple[int, int] = (0, 0)  # contents only older versions name
    older_freed: int = 0  # what removing them frees (not linked elsewhere)
    metadata: tuple[int, int] = (0, 0)  # trees and commits
    unreferenced: tuple[int, int] = (0, 0)
    total: int = 0


def usage(repo: Repo, result: Plan) -> Usage:
    """Sort every object of the store into the ``Usage`` buckets."""
    store = repo.store
    counts: dict[str, list[int]] = {k: [0, 0] for k in ("tracked", "pending", "older", "metadata", "unreferenced")}
    u = Usage()
    for digest in store.iter_ids():
        try:
            st = os.lstat(store.path(digest))
        except FileNotFoundError:
            continue
        if digest in result.tracked:
            bucket = "tracked"
            if st.st_nlink > 1:
                u.shared += st.st_size
        elif digest in result.needed:
            bucket = "pending"
        elif digest in result.older:
            bucket = "older"
            if st.st_nlink == 1:
                u.older_freed += st.st_size
        elif _is_metadata(store.path(digest), st.st_size):
            bucket = "metadata"
        else:
            bucket = "unreferenced"
        counts[bucket][0] += 1
        counts[bucket][1] += st.st_size
        u.total += st.st_size
    u.tracked, u.pending, u.older, u.metadata, u.unreferenced = (
        tuple(counts[k]) for k in ("tracked", "pending", "older", "metadata", "unreferenced")  # type: ignore[assignment]
    )
    return u


def _is_metadata(path: str, size: int) -> bool:
    """Whether the object is a tree or a commit (by its first bytes)."""
    if size > 64 << 20:
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    return object_type(head) != "file"

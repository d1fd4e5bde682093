"""Checking a remote: every committed version whole, every object true to its name.

For each committed version record: its commit object, every tree below it
and every content those name must be on the remote, and each object's bytes
must hash (BLAKE3) to its name. Commits and trees are always read whole and
hashed (they are small and must be parsed anyway). Contents are checked by
size by default; ``full`` reads and hashes every one, ``sample`` a random
few. Objects shared by many versions are checked once; a problem is reported
with every version it breaks. Reads run in parallel, a bounded number at a
time (``run_bounded``), and stream: a content is hashed as it arrives, never
held whole in memory.

``repair`` puts back a good copy from the local store, verified before it is
sent, over a missing or damaged object.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from . import failpoint
from .assets import COMMITTED, Assets, head_key, parse_asset_name
from .errors import AmaError, Corrupt, NotFound, UsageError
from .hashing import hash_bytes
from .objects import HEX64, Commit, object_type, parse_tree
from .parallel import run_bounded
from .remote.base import Remote, object_key, short
from .store import Store

MISSING = "missing"
DAMAGED = "damaged"
WRONG_SIZE = "wrong-size"
BAD_RECORD = "bad-record"


@dataclass
class Problem:
    what: str  # MISSING, DAMAGED, WRONG_SIZE, BAD_RECORD
    kind: str  # commit, tree, content, or the record's key
    name: str  # object id, or the record's key
    detail: str = ""
    versions: list[str] = field(default_factory=list)


@dataclass
class Report:
    versions: list[str] = field(default_factory=list)
    objects: int = 0
    hashed: int = 0
    problems: list[Problem] = field(default_factory=list)


def committed_versions(assets: Assets, selector: str | None) -> list[tuple[str, str]]:
    """("class/seq/n", commit id) of every committed version, or of the
    ones ``selector`` names: CLASS, CLASS/SEQ, CLASS/ALIAS or CLASS/SEQ/N."""
    if selector is None or "/" not in selector.strip("/"):
        classes = [selector.strip("/")] if selector else assets.list_classes()
        targets = [(cls, seq, None) for cls in classes for seq in assets.list_seqs(cls)]
    else:
        cls, middle, n = parse_asset_name(selector)
        seq = middle if isinstance(middle, int) else assets.resolve_alias(cls, middle)
        assets.read_asset(cls, seq)
        targets = [(cls, seq, n)]
    found = []
    for cls, seq, n in targets:
        numbers = [n] if n is not None else assets.version_numbers(cls, seq)
        for number in numbers:
            record, _ = assets.read_version(cls, seq, number)
            if record.get("status") == COMMITTED:
                found.append((f"{cls}/{seq}/{number}", str(record.get("commit"))))
            elif n is not None:
                raise UsageError(f"version {selector} is {record.get('status')}, not committed")
    return found


class _Graph:
    """Which object names which (child -> parents), to tell the versions a
    damaged object breaks without keeping a version list per object."""

    def __init__(self) -> None:
        self.parents: dict[str, set[str]] = {}
        self.kind: dict[str, str] = {}
        self.commit_versions: dict[str, list[str]] = {}

    def add(self, child: str, kind: str, parent: str | None) -> bool:
        """Record the edge; True if ``child`` is new."""
        new = child not in self.kind
        if new:
            self.kind[child] = kind
            self.parents[child] = set()
        if parent is not None:
            self.parents[child].add(parent)
        return new

    def versions_of(self, digest: str) -> list[str]:
        seen = {digest}
        stack = [digest]
        names: set[str] = set()
        while stack:
            d = stack.pop()
            names.update(self.commit_versions.get(d, ()))
            for p in self.parents.get(d, ()):
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return sorted(names, key=_version_order)


def _version_order(name: str) -> tuple[str, int]:
    asset, _, n = name.rpartition("/")
    return asset, int(n) if n.isdigit() else 0


@dataclass
class Walk:
    """What a set of versions names on a remote: every commit, tree and
    content (``graph``), the contents' sizes, and what could not be read."""

    graph: _Graph
    sizes: dict[str, int]  # content -> size its tree records
    problems: dict[str, Problem]
    read: int  # commits and trees read and hashed


def walk_versions(
    remote: Remote, versions: list[tuple[str, str]], jobs: int = 8, progress: Callable[[int], None] | None = None
) -> Walk:
    """Read and hash the commit and every tree of ``versions``, level by
    level (each level's objects in parallel)."""
    walk = Walk(_Graph(), {}, {}, 0)
    graph = walk.graph

    def note(p: Problem) -> None:
        walk.problems.setdefault(p.name, p)

    level: list[tuple[str, str]] = []  # (object id, kind) to read next
    for name, commit_id in versions:
        if not HEX64.match(commit_id):
            note(Problem(BAD_RECORD, "version", name, f"names a malformed commit id {commit_id!r}"))
            continue
        graph.commit_versions.setdefault(commit_id, []).append(name)
        if graph.add(commit_id, "commit", None):
            level.append((commit_id, "commit"))

    def read(item: tuple[str, str]) -> bytes | Problem:
        digest, kind = item
        try:
            data = remote.get(object_key(digest))
        except NotFound:
            return Problem(MISSING, kind, digest)
        actual = hash_bytes(data)
        if actual != digest:
            return Problem(DAMAGED, kind, digest, f"its bytes hash to {short(actual)}")
        return data

    while level:
        following: list[tuple[str, str]] = []
        for (digest, kind), data in run_bounded(read, level, jobs):
            walk.read += 1
            if progress:
                progress(1)
            if isinstance(data, Problem):
                note(data)
                continue
            try:
                children = _children(data, digest, kind)
            except (Corrupt, UnicodeDecodeError):
                note(Problem(DAMAGED, kind, digest, f"it is not a readable {kind}"))
                continue
            for child, child_kind, size in children:
                if not HEX64.match(child):
                    note(Problem(DAMAGED, kind, digest, f"it names a malformed id {child!r}"))
                    continue
                if graph.add(child, child_kind, digest):
                    if child_kind == "content":
                        walk.sizes[child] = size
                    else:
                        following.append((child, child_kind))
        level = following
    return walk


def check_remote(
    remote: Remote,
    versions: list[tuple[str, str]],
    full: bool = False,
    sample: int = 0,
    jobs: int = 8,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check ``versions`` (from ``committed_versions``) on ``remote``."""
    report = Report(versions=[name for name, _ in versions])
    walk = walk_versions(remote, versions, jobs, progress)
    graph, sizes, problems = walk.graph, walk.sizes, walk.problems
    report.objects = report.hashed = walk.read

    def note(p: Problem) -> None:
        problems.setdefault(p.name, p)

    to_hash = set(sizes) if full else set(random.sample(sorted(sizes), min(sample, len(sizes))))

    def check_content(digest: str) -> Problem | None:
        if digest in to_hash:
            try:
                actual = remote.hash_object(digest)
            except NotFound:
                return Problem(MISSING, "content", digest)
            if actual != digest:
                return Problem(DAMAGED, "content", digest, f"its bytes hash to {short(actual)}")
            return None
        size = remote.object_size(digest)
        if size is None:
            return Problem(MISSING, "content", digest)
        if size != sizes[digest]:
            return Problem(WRONG_SIZE, "content", digest, f"{size} bytes instead of {sizes[digest]}")
        return None

    for digest, problem in run_bounded(check_content, sorted(sizes), jobs):
        report.objects += 1
        report.hashed += digest in to_hash
        if progress:
            progress(1)
        if problem:
            note(problem)

    for p in problems.values():
        if p.what != BAD_RECORD:
            p.versions = graph.versions_of(p.name)
        else:
            p.versions = [p.name]
    report.problems = sorted(problems.values(), key=lambda p: (p.versions[:1], p.kind, p.name))
    return report


def check_heads(assets: Assets, versions: list[tuple[str, str]]) -> list[Problem]:
    """An asset's HEAD must name one of its committed versions, with its commit."""
    commits = dict(versions)
    problems = []
    for asset in sorted({name.rsplit("/", 1)[0] for name, _ in versions}):
        cls, seq = asset.split("/")
        try:
            head = assets.head(cls, int(seq))
        except (AmaError, KeyError, ValueError, TypeError):
            problems.append(Problem(BAD_RECORD, "HEAD", head_key(cls, int(seq)), "it is not a valid HEAD record"))
            continue
        if head is None:
            continue
        name = f"{asset}/{head.version}"
        if name in commits and commits[name] != head.commit:
            problems.append(Problem(BAD_RECORD, "HEAD", head_key(cls, int(seq)),
                                    f"it names commit {short(head.commit)}, version {head.version} has "
                                    f"{short(commits[name])}", [name]))
    return problems


def _children(data: bytes, digest: str, kind: str) -> list[tuple[str, str, int]]:
    """(id, kind, size) of the objects a commit or tree names."""
    if kind == "commit":
        if object_type(data) != "commit":
            raise Corrupt(f"object {digest} is not a commit")
        return [(Commit.parse(data, digest).tree, "tree", 0)]
    return [
        (e.digest, "tree" if e.kind == "tree" else "content", e.size)
        for e in parse_tree(data, digest)
        if e.kind in ("tree", "file")
    ]


def repair(remote: Remote, store: Store, problems: list[Problem], jobs: int = 8) -> tuple[list[str], list[str]]:
    """Put good local copies over missing or damaged objects; (repaired, not
    repairable) object ids. A copy is verified before it is sent, and the
    object is read back and hashed after."""
    fixable = [p for p in problems if p.what in (MISSING, DAMAGED, WRONG_SIZE)]

    def fix(p: Problem) -> bool:
        if not store.has(p.name) or not store.verify(p.name):
            return False
        path = store.path(p.name)
        if p.what == MISSING:
            remote.put_object(p.name, path)
        else:
            remote.replace_object(p.name, path)
        good = remote.hash_object(p.name) == p.name
        failpoint.hit("repaired-object")
        return good

    repaired, left = [], []
    for p, ok in run_bounded(fix, fixable, jobs):
        (repaired if ok else left).append(p.name)
    return sorted(repaired), sorted(left)

"""Copying versions from one remote to another (``ama push --remote``).

For each asset, versions 1..N are copied in order, each one as the commit
protocol would publish it: first every object the version names (contents,
then trees, then the commit), each verified by the destination's
``put_object``; then ``asset.json`` and the version record, byte for byte
(create-if-absent); then the asset's ``HEAD`` (create, or compare-and-swap
forward); then the aliases that name the asset. A version record at the
destination therefore always has its objects there (invariant 1).

Every step finds its own earlier work: objects already there are skipped,
records already holding the same bytes are left, so a push that was
interrupted is finished by running it again. A record that holds something
else at the destination (another asset under the same seq, another version
under the same number) stops the push with ``Conflict`` naming it: nothing
is overwritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from . import failpoint
from .assets import ABANDONED, COMMITTED, Assets, asset_prefix, head_key, version_key
from .errors import BadPath, Conflict, Corrupt, IntegrityError, NotFound, PreconditionFailed
from .parallel import run_bounded
from .remote.base import Remote
from .remotecheck import walk_versions
from .store import Store


@dataclass
class Copied:
    versions: list[str] = field(default_factory=list)  # copied now
    present: list[str] = field(default_factory=list)  # already at the destination
    objects: int = 0
    bytes: int = 0


def versions_to_copy(assets: Assets, selectors: list[str], everything: bool) -> list[tuple[str, int, int]]:
    """(class, seq, up to version) for each asset the selectors name:
    CLASS, CLASS/SEQ, CLASS/ALIAS (up to its HEAD) or CLASS/SEQ/N."""
    from .assets import parse_asset_name

    wanted: dict[tuple[str, int], int] = {}

    def up_to_head(cls: str, seq: int) -> None:
        head = assets.head(cls, seq)
        if head is not None:
            wanted[(cls, seq)] = max(wanted.get((cls, seq), 0), head.version)

    if everything:
        for cls in assets.list_classes():
            for seq in assets.list_seqs(cls):
                up_to_head(cls, seq)
    for selector in selectors:
        if "/" not in selector.strip("/"):
            for seq in assets.list_seqs(selector.strip("/")):
                up_to_head(selector.strip("/"), seq)
            continue
        cls, middle, n = parse_asset_name(selector)
        seq = middle if isinstance(middle, int) else assets.resolve_alias(cls, middle)
        assets.read_asset(cls, seq)
        if n is None:
            up_to_head(cls, seq)
            if (cls, seq) not in wanted:
                raise NotFound(f"asset {cls}/{seq} has no committed version to push")
        else:
            assets.commit_of(cls, seq, n)  # NotFound unless committed
            wanted[(cls, seq)] = max(wanted.get((cls, seq), 0), n)
    return [(cls, seq, n) for (cls, seq), n in sorted(wanted.items())]


def copy_asset(
    src: Remote,
    dst: Remote,
    cls: str,
    seq: int,
    upto: int,
    store: Store,
    jobs: int = 8,
    progress: Callable[[int], None] | None = None,
) -> Copied:
    """Copy versions 1..``upto`` of ``cls/seq`` (see the module doc)."""
    result = Copied()
    src_assets, dst_assets = Assets(src), Assets(dst)
    records = []
    for n in src_assets.version_numbers(cls, seq):
        if n > upto:
            break
        record, _ = src_assets.read_version(cls, seq, n)
        if record.get("status") not in (COMMITTED, ABANDONED):
            raise Conflict(f"version {cls}/{seq}/{n} is {record.get('status')} on {src.url}; push it once committed")
        records.append((n, record, src.get(version_key(cls, seq, n))))

    committed = [(f"{cls}/{seq}/{n}", str(r["commit"])) for n, r, _ in records if r.get("status") == COMMITTED]
    walk = walk_versions(src, committed, jobs)
    if walk.problems:
        p = next(iter(walk.problems.values()))
        raise Corrupt(f"{p.kind} {p.name[:12]} of {cls}/{seq} is {p.what} on {src.url}; nothing of it was "
                      f"copied (check it with 'ama fsck --remote')")
    kinds = walk.graph.kind
    order = ([d for d, k in kinds.items() if k == "content"], [d for d, k in kinds.items() if k == "tree"],
             [d for d, k in kinds.items() if k == "commit"])
    for group in order:
        missing = sorted(set(group) - dst.has_objects(group))
        for _digest, size in run_bounded(lambda d: _copy_object(src, dst, d, store), missing, jobs):
            result.objects += 1
            result.bytes += size
            if progress:
                progress(1)
            failpoint.hit("push-copied-object")

    _copy_record(src, dst, f"{asset_prefix(cls, seq)}/asset.json", f"asset {cls}/{seq}")
    for n, record, data in records:
        name = f"{cls}/{seq}/{n}"
        key = version_key(cls, seq, n)
        try:
            dst.create(key, data)
            result.versions.append(name)
            failpoint.hit("push-copied-version")
        except Conflict:
            there, _ = dst_assets.read_version(cls, seq, n)
            if there != record and not (
                there.get("status") == record.get("status") == COMMITTED and there.get("commit") == record.get("commit")
            ):
                raise Conflict(
                    f"version {name} differs on {dst.url} ({_describe(there)} there, {_describe(record)} here); "
                    f"nothing of it was overwritten"
                ) from None
            result.present.append(name)

    newest = max((n for n, r, _ in records if r.get("status") == COMMITTED), default=None)
    if newest is not None:
        _advance_head(src, dst, cls, seq, newest)
    for alias, alias_seq in src_assets.list_aliases(cls).items():
        if alias_seq == seq:
            _copy_record(src, dst, f"aliases/{cls}/{alias}", f"alias {cls}/{alias}")
    return result


def _copy_object(src: Remote, dst: Remote, digest: str, store: Store) -> int:
    """Put one object on ``dst``: from the local store when it has a good
    copy, else downloaded (verified) from ``src`` into a temporary file."""
    if store.has(digest):
        try:
            dst.put_object(digest, store.path(digest))
            return os.path.getsize(store.path(digest))
        except (IntegrityError, BadPath):
            pass  # a damaged local copy: fetch a good one
    directory = os.path.dirname(store.path(digest))
    os.makedirs(directory, exist_ok=True)
    # A name gc removes once it is an hour old, should a crash leave it.
    tmp = os.path.join(directory, f".ama-tmp-push-{digest[:16]}-{os.getpid()}")
    try:
        src.get_object(digest, tmp)
        dst.put_object(digest, tmp)
        return os.path.getsize(tmp)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _copy_record(src: Remote, dst: Remote, key: str, what: str) -> None:
    data = src.get(key)
    try:
        dst.create(key, data)
    except Conflict:
        if dst.get(key) != data:
            raise Conflict(f"{what} differs on {dst.url}; nothing of it was overwritten") from None


def _advance_head(src: Remote, dst: Remote, cls: str, seq: int, newest: int) -> None:
    """Point the destination's HEAD at version ``newest``, unless it is
    already there or beyond."""
    data = src.get(head_key(cls, seq))
    record = json.loads(data)
    if int(record["version"]) != newest:
        commit = Assets(src).commit_of(cls, seq, newest)[1]
        data = (json.dumps({"version": newest, "commit": commit}, sort_keys=True, indent=1) + "\n").encode()
    head = Assets(dst).head(cls, seq)
    try:
        if head is None:
            dst.create(head_key(cls, seq), data)
        elif head.version < newest:
            dst.replace(head_key(cls, seq), data, head.token)
    except (Conflict, PreconditionFailed, NotFound):
        raise Conflict(f"the HEAD of {cls}/{seq} changed on {dst.url} while pushing; push again") from None


def _describe(record: dict) -> str:
    commit = record.get("commit")
    return f"{record.get('status')} {commit[:12]}" if commit else str(record.get("status"))

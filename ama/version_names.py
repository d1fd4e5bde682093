"""Names of versions: HEAD, CLASS/SEQ, CLASS/SEQ/N, CLASS/ALIAS[/N], and
commit ids (full, or a unique prefix of at least 4 hex digits)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import Corrupt, NotFound, UsageError
from .refs import read_head, read_ref
from .repo import Repo

HEXISH = re.compile(r"^[0-9a-fA-F]{4,64}$")


@dataclass
class Resolved:
    commit: str
    cls: str | None = None
    seq: int | None = None
    version: int | None = None

    @property
    def name(self) -> str:
        if self.cls is None:
            return self.commit[:12]
        return f"{self.cls}/{self.seq}/{self.version}"


def resolve(repo: Repo | None, name: str, remote=None) -> Resolved:
    """Resolve ``name`` to a commit; ``remote`` (a Remote) is asked for asset
    names, the local store for ids."""
    if name == "HEAD":
        if repo is None:
            raise UsageError("HEAD needs a repository")
        head = read_head(repo)
        if not head.commit:
            raise NotFound(f"HEAD has no commit yet (asset class {head.cls})")
        return Resolved(head.commit, head.cls, head.seq, head.version)
    if "/" not in name:
        if repo is not None and HEXISH.match(name):
            from .objects import Commit
            from .store import resolve_prefix

            commit_id = resolve_prefix(repo.store, name)
            commit = Commit.parse(repo.store.read_bytes(commit_id), commit_id)
            cls, _, seq = commit.asset.partition("/")
            if not seq.isdigit():
                raise Corrupt(f"commit {commit_id} names no asset version ('asset {commit.asset}')")
            return Resolved(commit_id, cls, int(seq), commit.version)
        raise UsageError(f"'{name}' is not a version name (CLASS/SEQ[/N], CLASS/ALIAS, HEAD or a commit id)")
    from .assets import Assets, parse_asset_name

    cls, middle, n = parse_asset_name(name)
    if remote is None:
        if isinstance(middle, int) and n is None and repo is not None:
            local = read_ref(repo, f"assets/{cls}/{middle}")
            if local:
                from .objects import Commit

                commit = Commit.parse(repo.store.read_bytes(local), local)
                return Resolved(local, cls, middle, commit.version)
        raise NotFound(f"cannot resolve '{name}' without a remote")
    assets = Assets(remote)
    seq = middle if isinstance(middle, int) else assets.resolve_alias(cls, middle)
    version, commit_id = assets.commit_of(cls, seq, n)
    return Resolved(commit_id, cls, seq, version)

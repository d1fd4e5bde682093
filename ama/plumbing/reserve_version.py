"""Reserve the next version of an asset on the remote (stage 1 of a commit)
and print it as "CLASS/SEQ N TXID".

--asset CLASS/SEQ reserves the next version of that asset, CLASS alone the
first version of a new asset (its seq is allocated by create-if-absent);
the default is the asset the work tree is on (.ama/HEAD). --parent is the
commit the new version follows (default: HEAD's commit, or the local ref of
another asset); the reservation is refused (exit 8) if the asset moved on
from it on the remote. --txid names the transaction (default: a new random
one): run again with the same txid, the command finds and prints the same
reservation instead of taking another. Write the commit with 'ama
commit-tree --asset CLASS/SEQ --version N', publish it with 'ama
publish-version COMMIT --txid TXID' (docs/commit-protocol.md).
"""

from __future__ import annotations

import argparse
import re
import uuid

from .. import failpoint, ident, ui
from ..assets import Assets
from ..errors import NotFound, UsageError
from ..objects import Commit, object_type
from ..refs import check_class, read_head, read_ref
from ..remotes import default_name, open_repo_remote
from ..repo import Repo
from ..store import resolve_prefix
from ..txn import own_seq, own_version

TXID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--asset", metavar="CLASS[/SEQ]",
                   help="the asset (default: the work tree's); CLASS alone: a new asset of that class")
    p.add_argument("--parent", metavar="COMMIT",
                   help="the commit the version follows (default: HEAD's, or the asset's local ref)")
    p.add_argument("--txid", metavar="TXID",
                   help="the transaction id (default: a new one); the same txid gives the same reservation")
    p.add_argument("--remote", help="remote to reserve on (default: core.remote, else origin)")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    txid = args.txid or uuid.uuid4().hex
    if not TXID.match(txid):
        raise UsageError(f"--txid '{txid}': use up to 128 letters, digits, '.', '_' and '-'")
    cls, seq, parent = _target(repo, args.asset, args.parent)
    remote = open_repo_remote(repo, args.remote or default_name(repo), committing=True)
    assets = Assets(remote)
    user = ident.author(repo.root)
    # A txid of our own making was never used: nothing of it to look for.
    look = args.txid is not None
    if seq is None:
        seq = own_seq(assets, cls, txid, user, look=look)
    failpoint.hit("after-seq")
    n = own_version(assets, cls, seq, parent, txid, user, look=look)
    ui.out(f"{cls}/{seq} {n} {txid}")
    return 0


def _target(repo: Repo, asset: str | None, parent_arg: str | None) -> tuple[str, int | None, str | None]:
    """(class, seq or None for a new asset, parent commit or None)."""
    head = read_head(repo)
    if asset is None:
        cls, seq = head.cls, head.seq
    else:
        cls, _, rest = asset.partition("/")
        check_class(cls)
        if rest and not (rest.isdigit() and int(rest) >= 1):
            raise UsageError(f"--asset '{asset}': expected CLASS or CLASS/SEQ, e.g. genomics/12")
        seq = int(rest) if rest else None
    if seq is None:
        if parent_arg:
            raise UsageError("--parent: the first version of a new asset has no parent")
        return cls, None, None
    if parent_arg is None:
        same = (cls, seq) == (head.cls, head.seq)
        return cls, seq, head.commit if same else read_ref(repo, f"assets/{cls}/{seq}")
    parent = resolve_prefix(repo.store, parent_arg)
    data = repo.store.read_bytes(parent)
    if object_type(data) != "commit":
        raise NotFound(f"{parent_arg} is not a commit")
    if Commit.parse(data, parent).asset != f"{cls}/{seq}":
        raise UsageError(f"--parent {parent_arg} is a version of another asset than {cls}/{seq}")
    return cls, seq, parent

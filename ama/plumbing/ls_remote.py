"""List the assets on a remote, or the versions of one asset.

Without a name, or with CLASS: one line per asset,
"CLASS/SEQ<TAB>VERSION<TAB>COMMIT", where VERSION and COMMIT are the
asset's HEAD (the latest committed version), or "-" for an asset with no
committed version yet. With CLASS/SEQ (or CLASS/ALIAS): one line per version
record, "CLASS/SEQ/N<TAB>STATUS<TAB>COMMIT", STATUS being committed,
reserved or abandoned and COMMIT "-" when the version has none. Lines are
sorted (classes by name, seqs and versions by number); -z ends them with NUL.
The format is stable.

The remote is --url URL (with --endpoint, --region, --profile for S3),
else the repository's default remote, else (outside a repository) the
per-user store. Exit 11 if CLASS/SEQ does not
exist; a class with no assets prints nothing.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..assets import Assets, parse_asset_name
from ..errors import NotARepository, UsageError
from ..refs import check_class
from ..remotes import (
    add_s3_options,
    default_store_url,
    open_repo_remote,
    open_url,
    open_url_args,
    refuse_s3_options_without_url,
)
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", metavar="CLASS[/SEQ]", help="a class, or one asset (CLASS/SEQ or CLASS/ALIAS)")
    p.add_argument("--url", help="the remote's URL")
    p.add_argument("--remote", help="a remote of the repository, by name")
    add_s3_options(p, only_with="--url")
    p.add_argument("-z", action="store_true", help="NUL-terminated lines")


def run(args: argparse.Namespace) -> int:
    remote = _open(args)
    assets = Assets(remote)
    end = "\0" if args.z else "\n"
    lines = []
    if args.name is None or "/" not in args.name.strip("/"):
        classes = [check_class(args.name.strip("/"))] if args.name else assets.list_classes()
        for cls in classes:
            for seq in assets.list_seqs(cls):
                head = assets.head(cls, seq)
                version, commit = (str(head.version), head.commit) if head else ("-", "-")
                lines.append(f"{cls}/{seq}\t{version}\t{commit}")
    else:
        cls, middle, n = parse_asset_name(args.name)
        if n is not None:
            raise UsageError(f"'{args.name}': name a class or an asset (CLASS/SEQ), not one version")
        seq = middle if isinstance(middle, int) else assets.resolve_alias(cls, middle)
        assets.read_asset(cls, seq)
        for record in assets.versions(cls, seq):
            commit = record.get("commit") or "-"
            lines.append(f"{cls}/{seq}/{record.get('version')}\t{record.get('status', '?')}\t{commit}")
    ui.out("".join(line + end for line in lines), end="")
    return 0


def _open(args: argparse.Namespace):
    refuse_s3_options_without_url(args)
    if args.url:
        if args.remote:
            raise UsageError("give --url or --remote, not both")
        return open_url_args(args)
    try:
        repo = Repo.discover()
    except NotARepository:
        if args.remote:
            raise
        return open_url(default_store_url())
    return open_repo_remote(repo, args.remote)

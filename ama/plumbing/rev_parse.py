"""Resolve version names to commit ids, one per line.

Names: HEAD, CLASS/SEQ (its latest version), CLASS/SEQ/N, CLASS/ALIAS[/N],
or a commit id or unique prefix. Asset names are looked up on the remote
(--remote, default: the repository's; or --url, with --endpoint, --region,
--profile for S3), falling back to local refs for
CLASS/SEQ when offline is asked for with --local.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..errors import NotARepository
from ..remotes import add_s3_options, open_repo_remote, open_url_args, refuse_s3_options_without_url
from ..repo import Repo
from ..version_names import resolve


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--remote", help="remote name (or URL with --url)")
    p.add_argument("--url", help="look names up on the remote at this URL")
    add_s3_options(p, only_with="--url")
    p.add_argument("--local", action="store_true", help="use only local refs and objects")
    p.add_argument("--version", dest="show_version", action="store_true",
                   help="print 'CLASS/SEQ/N ID' instead of the id alone")


def run(args: argparse.Namespace) -> int:
    refuse_s3_options_without_url(args)
    repo = None
    try:
        repo = Repo.discover()
    except NotARepository:
        if not args.url:
            raise
    remote = None
    if not args.local:
        remote = open_url_args(args) if args.url else open_repo_remote(repo, args.remote)
    for name in args.names:
        r = resolve(repo, name, None if name == "HEAD" or "/" not in name else remote)
        ui.out(f"{r.name} {r.commit}" if args.show_version else r.commit)
    return 0

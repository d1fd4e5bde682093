"""Add, list or remove remotes, and choose the default one.

'ama remote add NAME URL' records a remote: URL is a directory (made
absolute), file:///path or s3://bucket/prefix; --endpoint (and --region,
--profile) are for S3-compatible services. 'ama remote list' prints the
names; with -v one line per remote, "* NAME<TAB>URL" for the default one
and "  NAME<TAB>URL" for the others, followed by " (endpoint URL)" when an
endpoint is set. 'ama remote remove NAME' forgets a remote (nothing on it
is touched; if it was the default, "origin" is again). 'ama remote
set-default NAME' makes commands use NAME when no --remote is given
(core.remote; without it, "origin"). 'ama remote add' of an S3 remote
checks once that the server honours conditional writes, keeps the answer in
the config and warns if not (commit then refuses that remote, see
docs/remote-layout.md).
"""

from __future__ import annotations

import argparse
import re

from .. import ui
from ..errors import UsageError
from ..remotes import default_name, normalize_url, probe_remote
from ..repo import Repo

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
OPTIONS = ("endpoint", "region", "profile")


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a remote", description="Add a remote named NAME at URL.")
    add.add_argument("name", metavar="NAME")
    add.add_argument("url", metavar="URL")
    add.add_argument("--endpoint", help="S3 endpoint URL (for S3-compatible services)")
    add.add_argument("--region", help="S3 region")
    add.add_argument("--profile", help="AWS profile for the S3 credentials")
    add.add_argument("--default", action="store_true", help="also make it the default remote")
    ls = sub.add_parser("list", help="list the remotes", description="List the remotes.")
    ls.add_argument("-v", "--verbose", action="store_true", help="with their URLs")
    rm = sub.add_parser("remove", help="forget a remote", description="Forget the remote NAME.")
    rm.add_argument("name", metavar="NAME")
    default = sub.add_parser("set-default", help="use NAME when no --remote is given",
                             description="Make NAME the default remote (core.remote).")
    default.add_argument("name", metavar="NAME")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    config = repo.config
    known = config.subsections("remote")
    if args.action == "list":
        current = default_name(repo)
        for name in sorted(known):
            if not args.verbose:
                ui.out(name)
                continue
            endpoint = config.get(f"remote.{name}.endpoint")
            line = f"{'*' if name == current else ' '} {name}\t{config.get(f'remote.{name}.url') or '-'}"
            ui.out(line + (f" (endpoint {endpoint})" if endpoint else ""))
        return 0
    name = args.name
    if args.action == "add":
        if not NAME.match(name):
            raise UsageError(f"bad remote name '{name}': use letters, digits, '.', '_' and '-'")
        if name in known:
            raise UsageError(f"remote '{name}' already exists ({config.get(f'remote.{name}.url')}); "
                             f"remove it first or change it with 'ama config remote.{name}.url URL'")
        config.set(f"remote.{name}.url", normalize_url(args.url))
        for option in OPTIONS:
            if getattr(args, option):
                config.set(f"remote.{name}.{option}", getattr(args, option))
        if args.default:
            config.set("core.remote", name)
        config.save()
        probe_remote(repo, name)
        return 0
    if name not in known:
        raise UsageError(f"no remote named '{name}' (configured: {', '.join(sorted(known)) or 'none'})")
    if args.action == "remove":
        config.remove_section(f"remote.{name}")
        if config.get("core.remote") == name:
            config.unset("core.remote")
            ui.info(f"'{name}' was the default remote; the default is now 'origin'")
        config.save()
    else:
        config.set("core.remote", name)
        config.save()
    return 0


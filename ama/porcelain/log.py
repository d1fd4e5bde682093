"""Show the history of an asset, newest first, by following parent commits.

NAME is where to start: HEAD (the default), CLASS/SEQ (its latest version on
the remote), CLASS/SEQ/N, CLASS/ALIAS[/N] or a commit id. Commits and trees
missing from the local store (a clone has only the version it checked out)
are fetched from the remote and kept; a history that is all local is shown
without contacting the remote.

Each version shows its name, commit id, author, date, total size and
message. --oneline prints one line per version: "ID12 CLASS/SEQ/N SUBJECT".
"""

from __future__ import annotations

import argparse

from .. import ui
from ..errors import UsageError
from ..history import ObjectReader
from ..ident import format_time
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", default="HEAD", metavar="NAME", help="where to start (default: HEAD)")
    p.add_argument("-n", "--max-count", type=int, metavar="N", help="show at most N versions")
    p.add_argument("--oneline", action="store_true", help="one line per version")
    p.add_argument("--remote", help="remote to fetch missing commits from (default: core.remote, else origin)")


def run(args: argparse.Namespace) -> int:
    if args.max_count is not None and args.max_count < 0:
        raise UsageError("-n takes a count from 0")
    repo = Repo.discover()
    reader = ObjectReader(repo, args.remote)
    start = reader.resolve(args.name)
    shown = 0
    for commit_id, commit in reader.walk(start.commit):
        if args.max_count is not None and shown >= args.max_count:
            break
        name = f"{commit.asset}/{commit.version}"
        subject = commit.message.split("\n", 1)[0]
        if args.oneline:
            ui.print_rich(f"{ui.styled(commit_id[:12], 'yellow')} {name} {ui.styled(subject, 'default')}")
        else:
            size = reader.tree_size(commit.tree)
            body = "\n".join(f"    {line}" if line else "" for line in commit.message.rstrip("\n").split("\n"))
            ui.print_rich(
                ("\n" if shown else "")
                + ui.styled(f"version {name}", "bold yellow") + "\n"
                + f"commit {commit_id}\n"
                + f"Author: {ui.styled(commit.author, 'default')}\n"
                + f"Date:   {format_time(commit.time, commit.tz)}\n"
                + f"Size:   {ui.human_size(size)} ({size} bytes)\n"
                + "\n"
                + ui.styled(body, "default")
            )
        shown += 1
    return 0

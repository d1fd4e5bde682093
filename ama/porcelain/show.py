"""Show one version: its commit, lineage, provenance, message and size.

VERSION is HEAD (the default), CLASS/SEQ (latest), CLASS/SEQ/N,
CLASS/ALIAS[/N] or a commit id. The header names the version, its commit
and parent, author and date; then one "Input:" line per version it was made
from ("ama inputs"); then the git state it was committed from, as
"Git: COMMIT12 on BRANCH (dirty)", and any other metadata as "key: value";
then the message, and the number of files and their total size. --files
lists the files, one "SIZE  PATH" line each. Missing commits and trees are
fetched from the remote; file contents are not.
"""

from __future__ import annotations

import argparse
import json

from .. import ui
from ..history import ObjectReader
from ..ident import format_time
from ..objects import Commit
from ..repo import Repo

GIT_KEYS = ("git.commit", "git.branch", "git.dirty")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", nargs="?", default="HEAD", metavar="VERSION", help="what to show (default: HEAD)")
    p.add_argument("--files", action="store_true", help="list the version's files")
    p.add_argument("--remote", help="remote to fetch missing objects from (default: core.remote, else origin)")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    reader = ObjectReader(repo, args.remote)
    target = reader.resolve(args.version)
    commit = reader.commit(target.commit)
    files = reader.files(commit.tree)
    total = sum(entry.size for _, entry in files)
    lines = [
        ui.styled(f"version {commit.asset}/{commit.version}", "bold yellow"),
        f"commit {target.commit}",
        f"parent {commit.parent or '-'}",
        f"Author: {commit.author}",
        f"Date:   {format_time(commit.time, commit.tz)}",
    ]
    lines += [f"Input:  {name} {commit_id}" for name, commit_id in sorted(commit.inputs)]
    lines += meta_lines(commit)
    lines += ["", *(f"    {line}" if line else "" for line in commit.message.rstrip("\n").split("\n")), ""]
    lines.append(f"{len(files)} file{'' if len(files) == 1 else 's'}, {ui.human_size(total)} ({total} bytes)")
    if args.files:
        lines += [f"{ui.human_size(entry.size):>10}  {ui.quote_path(path)}" for path, entry in files]
    if ui.use_color():
        from rich.markup import escape

        lines = [lines[0], *map(escape, lines[1:])]
    ui.print_rich("\n".join(lines))
    return 0


def meta_lines(commit: Commit) -> list[str]:
    meta = commit.meta
    lines = []
    if any(key in meta for key in GIT_KEYS):
        head = meta.get("git.commit")
        text = head[:12] if isinstance(head, str) and head else "(no commit yet)"
        branch = meta.get("git.branch")
        text += f" on {branch}" if branch else " (detached HEAD)"
        if meta.get("git.dirty"):
            text += " (dirty)"
        lines.append(f"Git: {text}")
    for key in sorted(meta):
        if key not in GIT_KEYS:
            value = meta[key]
            lines.append(f"{key}: {value if isinstance(value, str) else json.dumps(value, sort_keys=True)}")
    return lines

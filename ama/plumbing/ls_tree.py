"""List a tree object: "MODE KIND ID SIZE<TAB>NAME" per entry.

ID may also be a commit id, meaning its tree. With -r, descend into subtrees
and print full paths of files only. -z ends records with NUL.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..objects import Commit, object_type, parse_tree, walk_tree
from ..repo import Repo
from ..store import resolve_prefix


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", metavar="ID")
    p.add_argument("-r", dest="recursive", action="store_true", help="recurse into subtrees")
    p.add_argument("-z", action="store_true", help="NUL-terminated records")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    store = repo.store
    digest = resolve_prefix(store, args.id)
    data = store.read_bytes(digest)
    if object_type(data) == "commit":
        digest = Commit.parse(data, digest).tree
    end = "\0" if args.z else "\n"
    quote = (lambda p: p) if args.z else ui.quote_path
    if args.recursive:
        rows = list(walk_tree(store.read_bytes, digest))
    else:
        rows = [(e.name, e) for e in parse_tree(store.read_bytes(digest), digest)]
    ui.out("".join(f"{e.mode} {e.kind} {e.digest} {e.size}\t{quote(path)}{end}" for path, e in rows), end="")
    return 0

"""Move REF (assets/CLASS/SEQ) to the commit NEW; with OLD, only if the ref
is at OLD now (compare-and-swap; 64 zeros: only if it does not exist). The
change is appended to .ama/logs/REF. Exit 8 if the ref moved.
"""

from __future__ import annotations

import argparse

from ..errors import NotFound
from ..objects import object_type
from ..refs import update_ref
from ..repo import Repo
from ..store import resolve_prefix


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("ref", metavar="REF")
    p.add_argument("new", metavar="NEW")
    p.add_argument("old", nargs="?", metavar="OLD")
    p.add_argument("-m", dest="reason", default="update-ref", help="reason recorded in the log")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    new = resolve_prefix(repo.store, args.new)
    if object_type(repo.store.read_bytes(new)) != "commit":
        raise NotFound(f"{args.new} is not a commit")
    update_ref(repo, args.ref, new, args.old, args.reason)
    return 0

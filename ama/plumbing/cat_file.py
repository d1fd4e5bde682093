"""Show an object: its type (-t), size (-s), content (-p), or whether it
exists (-e, exit 1 if not).

ID is a full id or a unique prefix of at least 4 hex digits. Types are
file, tree and commit. -p prints trees and commits as text and file contents
as raw bytes; the bytes are verified against the id first.
"""

from __future__ import annotations

import argparse
import os

from .. import ui
from ..errors import EXIT_DIFFERS, AmaError
from ..objects import object_type
from ..repo import Repo
from ..store import resolve_prefix


def configure(p: argparse.ArgumentParser) -> None:
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("-t", dest="mode", action="store_const", const="type", help="print the object's type")
    what.add_argument("-s", dest="mode", action="store_const", const="size", help="print the object's size")
    what.add_argument("-p", dest="mode", action="store_const", const="print", help="print the content")
    what.add_argument("-e", dest="mode", action="store_const", const="exists", help="exit 0 if it exists, else 1")
    p.add_argument("id", metavar="ID")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    store = repo.store
    if args.mode == "exists":
        try:
            resolve_prefix(store, args.id)
            return 0
        except AmaError:
            return EXIT_DIFFERS
    digest = resolve_prefix(store, args.id)
    if args.mode == "size":
        ui.out(str(os.stat(store.path(digest)).st_size))
        return 0
    with open(store.path(digest), "rb") as f:
        head = f.read(16)
    kind = object_type(head)
    if args.mode == "type":
        ui.out(kind)
        return 0
    ui.out_bytes(store.read_bytes(digest))
    return 0

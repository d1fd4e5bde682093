"""Write a commit object for TREE and print its id.

The asset (--asset CLASS/SEQ) and version (--version N) name the version the
commit becomes; author and date come from AMA_AUTHOR_NAME, AMA_AUTHOR_EMAIL,
AMA_AUTHOR_DATE (else git config, else the login name, and the clock), so a
script with those fixed reproduces the id 'ama commit' writes.
"""

from __future__ import annotations

import argparse
import json
import re

from .. import ident, ui
from ..errors import NotFound, UsageError
from ..objects import HEX64, Commit, object_type
from ..refs import CLASS_NAME
from ..repo import Repo
from ..store import resolve_prefix

VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[1-9][0-9]*/[1-9][0-9]*$")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("tree", metavar="TREE")
    p.add_argument("-p", dest="parent", metavar="PARENT", help="the parent commit")
    p.add_argument("-m", dest="message", required=True, metavar="MSG")
    p.add_argument("--asset", required=True, metavar="CLASS/SEQ")
    p.add_argument("--version", dest="version", type=int, required=True, metavar="N")
    p.add_argument("--input", action="append", default=[], metavar="CLASS/SEQ/N=ID", help="lineage (repeatable)")
    p.add_argument("--meta", action="append", default=[], metavar="KEY=JSON", help="metadata (repeatable)")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    store = repo.store
    tree = resolve_prefix(store, args.tree)
    if object_type(store.read_bytes(tree)) != "tree":
        raise NotFound(f"{args.tree} is not a tree")
    parent = resolve_prefix(store, args.parent) if args.parent else None
    if parent and object_type(store.read_bytes(parent)) != "commit":
        raise NotFound(f"{args.parent} is not a commit")
    _check_asset(args.asset, args.version)
    inputs = []
    for spec in args.input:
        name, _, commit_id = spec.partition("=")
        if not (VERSION_NAME.match(name) and HEX64.match(commit_id)):
            raise UsageError(f"--input '{spec}': expected CLASS/SEQ/N=ID with a 64-hex commit id")
        inputs.append((name, commit_id))
    meta = {}
    for spec in args.meta:
        key, _, raw = spec.partition("=")
        if not key or any(c.isspace() for c in key):
            raise UsageError(f"--meta '{spec}': the key must be non-empty and without spaces")
        try:
            meta[key] = json.loads(raw)
        except ValueError:
            raise UsageError(f"--meta '{spec}': the value must be JSON") from None
    when, tz = ident.now()
    commit = Commit(tree=tree, parent=parent, asset=args.asset, version=args.version,
                    author=ident.author(repo.root), time=when, tz=tz, message=args.message,
                    inputs=inputs, meta=meta)
    ui.out(store.write_bytes(commit.serialize()))
    return 0


def _check_asset(asset: str, version: int) -> None:
    """Only what 'ama commit' could write: the commit must parse back and
    name its version (rev-parse, log and checkout rely on it)."""
    cls, _, seq = asset.partition("/")
    if not (CLASS_NAME.match(cls) and seq.isdigit() and int(seq) >= 1):
        raise UsageError(f"--asset '{asset}': expected CLASS/SEQ, e.g. genomics/12")
    if version < 1:
        raise UsageError(f"--version {version}: versions are numbered from 1")

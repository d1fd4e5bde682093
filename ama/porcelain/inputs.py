"""Record lineage: the versions the next commit was made from.

'ama inputs add NAME...' resolves each NAME (CLASS/SEQ for its latest
version, CLASS/SEQ/N, CLASS/ALIAS[/N]) on the remote to a commit id and
records it in .ama/INPUTS as CLASS/SEQ/N; the next 'ama commit' writes them
into the commit ("input" lines, shown by 'ama show') and clears the list.
Adding another version of an asset already listed replaces it. 'ama inputs
list' prints "CLASS/SEQ/N<TAB>COMMIT" per input; 'ama inputs rm NAME'
removes one (NAME as listed, or CLASS/SEQ; exit 11 if none matches); 'ama
inputs clear' removes them all.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..errors import NotFound, UsageError
from ..inputs import clear_inputs, read_inputs, write_inputs
from ..refs import read_head
from ..remotes import open_repo_remote
from ..repo import Repo
from ..txnlock import TxnLock
from ..version_names import resolve


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="record versions as inputs", description="Record versions as inputs.")
    add.add_argument("names", nargs="+", metavar="NAME", help="CLASS/SEQ[/N] or CLASS/ALIAS[/N]")
    add.add_argument("--remote", help="remote to resolve names on (default: core.remote, else origin)")
    sub.add_parser("list", help="list the recorded inputs", description="List the recorded inputs.")
    rm = sub.add_parser("rm", help="remove an input", description="Remove an input.")
    rm.add_argument("name", metavar="NAME", help="CLASS/SEQ/N as listed, or CLASS/SEQ")
    sub.add_parser("clear", help="remove every input", description="Remove every input.")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    if args.action == "list":
        for name, commit_id in read_inputs(repo):
            ui.out(f"{name}\t{commit_id}")
        return 0
    # The lock keeps a commit from reading (and then clearing) the list
    # while it is being changed.
    with TxnLock(repo):
        inputs = read_inputs(repo)
        if args.action == "clear":
            clear_inputs(repo)
        elif args.action == "rm":
            kept = [i for i in inputs if i[0] != args.name and _asset(i[0]) != args.name.strip("/")]
            if len(kept) == len(inputs):
                raise NotFound(f"no input named '{args.name}' (see 'ama inputs list')")
            _save(repo, kept)
        else:
            _save(repo, _add(repo, inputs, args))
    return 0


def _add(repo: Repo, inputs: list[list[str]], args: argparse.Namespace) -> list[list[str]]:
    head = read_head(repo)
    remote = open_repo_remote(repo, args.remote)
    by_asset = {_asset(name): [name, commit_id] for name, commit_id in inputs}
    for name in args.names:
        if "/" not in name:
            raise UsageError(f"'{name}': name an asset version, CLASS/SEQ[/N] or CLASS/ALIAS[/N]")
        target = resolve(repo, name, remote)
        asset = f"{target.cls}/{target.seq}"
        if head.asset == asset:
            raise UsageError(f"{name} is this asset: its previous version is recorded as the parent already")
        old = by_asset.get(asset)
        by_asset[asset] = [target.name, target.commit]
        if old and old[0] != target.name:
            ui.info(f"input {old[0]} replaced by {target.name}")
    return list(by_asset.values())


def _asset(name: str) -> str:
    return name.rsplit("/", 1)[0]


def _save(repo: Repo, inputs: list[list[str]]) -> None:
    if inputs:
        write_inputs(repo, inputs)
    else:
        clear_inputs(repo)

"""Install, remove or show the git hooks that keep git and ama in step.

'ama hooks install' writes pre-commit (refuse a git commit while tracked
data changed since 'ama add' or an ama commit is pending), pre-push (upload
staged data the ama remote lacks), post-checkout and post-merge (after a
branch switch or a merge, check out the data version named by .ama-asset
unless the work tree has it already; never during a rebase) for this ama
work tree into the git repository's hooks directory,
core.hooksPath if set. A hook already there is kept as <hook>.ama-chained
and still runs first; --force rewrites ama's own hooks. 'ama hooks
uninstall' removes them and puts back what they chained, byte for byte.
'ama hooks status' shows each hook; it exits 0 if all four serve this work
tree, 1 if not. See docs/git-integration.md.
"""

from __future__ import annotations

import argparse
import os

from .. import ui
from ..hooks import CHAINED, FOREIGN, INSTALLED, OLD, ama_command, inspect, install, locate, uninstall
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    inst = actions.add_parser("install", help="write the hooks (keeping any hook already there, chained)")
    inst.add_argument("-f", "--force", action="store_true", help="rewrite ama's own hooks even if installed")
    actions.add_parser("uninstall", help="remove the hooks and put back the hooks they chained")
    actions.add_parser("status", help="show which hooks are installed; exit 1 unless all four are")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    place = locate(repo)
    if args.action == "install":
        ama = ama_command()
        for name, what in install(place, force=args.force, ama=ama):
            ui.info(f"{name}: {what}")
        ui.info(f"hooks in {place.hooks_dir} run ama in {place.worktree} with {ama or 'ama from PATH'}")
        return 0
    if args.action == "uninstall":
        for name, what in uninstall(place):
            ui.info(f"{name}: {what}")
        return 0
    return _status(place)


def _status(place) -> int:
    states = inspect(place)
    lines = [
        f"{'git work tree:':15} {place.git_root}",
        f"{'hooks:':15} {os.path.relpath(place.hooks_dir, place.git_root)}",
        f"{'ama work tree:':15} {place.worktree}",
    ]
    complete = True
    for s in states:
        if s.state in (INSTALLED, OLD):
            text = s.state
            if place.worktree not in s.worktrees:
                text += f", for {', '.join(s.worktrees)} only"
                complete = False
            elif s.state == OLD:
                text += ": 'ama hooks install --force' updates it"
        elif s.state == FOREIGN:
            text = f"{FOREIGN}: 'ama hooks install' keeps it as {s.name}{CHAINED} and runs it first"
        else:
            text = s.state
        if s.ours and s.chained:
            text += f"; runs {s.name}{CHAINED} first"
        complete = complete and s.ours
        lines.append(f"{s.name + ':':15} {text}")
    recorded = next((s.ama for s in states if s.ours), None)
    if recorded is not None:
        missing = "" if recorded and os.access(recorded, os.X_OK) else " (not found: the hooks look on PATH)"
        lines.append(f"{'ama command:':15} {recorded or '(not recorded)'}{missing}")
    ui.out("\n".join(lines))
    return 0 if complete else 1


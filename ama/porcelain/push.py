"""Copy committed versions to another remote.

Copies VERSIONs (CLASS/SEQ/N: versions 1 to N of that asset; CLASS/SEQ or
CLASS/ALIAS: up to its latest version; CLASS: every asset of the class), by
default the current asset, or with --all every asset, from the repository's
remote (--from NAME, default core.remote, else origin) to --remote NAME:
every object each version names (verified on arrival), then its records,
the asset's HEAD and its aliases. Objects the local store holds are sent
from there, the others downloaded (verified) from the source on the way.
What the destination already holds is skipped, so a push that was
interrupted is finished by running it again. A version that differs at the
destination stops the push (exit 8, naming it); nothing is overwritten.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..assets import Assets
from ..errors import UsageError
from ..mirror import copy_asset, versions_to_copy
from ..refs import read_head
from ..remotes import default_name, open_repo_remote, remote_url
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("versions", nargs="*", metavar="VERSION", help="CLASS/SEQ/N, CLASS/SEQ, CLASS/ALIAS or CLASS")
    p.add_argument("--remote", required=True, metavar="NAME", help="the remote to copy to")
    p.add_argument("--from", dest="source", metavar="NAME", help="the remote to copy from (default: core.remote, else origin)")
    p.add_argument("--all", action="store_true", help="every asset on the source")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel transfers (default: 8)")


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    repo = Repo.discover()
    source = args.source or default_name(repo)
    if remote_url(repo, source) == remote_url(repo, args.remote):
        raise UsageError(f"--remote {args.remote} and the source {source} are the same remote")
    selectors = list(args.versions)
    if not selectors and not args.all:
        head = read_head(repo)
        if head.seq is None:
            raise UsageError("this work tree has no committed asset yet: name the versions to push, or --all")
        selectors = [f"{head.cls}/{head.seq}"]
    with open_repo_remote(repo, source) as src, open_repo_remote(repo, args.remote) as dst:
        targets = versions_to_copy(Assets(src), selectors, args.all)
        if not targets:
            ui.out(f"nothing to push: {source} has no committed version")
            return 0
        for cls, seq, upto in targets:
            with ui.Progress(f"Pushing {cls}/{seq}", unit="objects") as bar:
                done = copy_asset(src, dst, cls, seq, upto, repo.store, args.jobs, bar.advance)
            if done.versions or done.objects:
                ui.out(f"{cls}/{seq}: copied {len(done.versions)} version(s), {done.objects} object(s) "
                       f"({ui.human_size(done.bytes)}) to {args.remote}")
            else:
                ui.out(f"{cls}/{seq}: {args.remote} already has versions 1-{upto}")
    return 0

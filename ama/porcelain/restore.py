"""Bring back deleted or damaged files of the work tree, verified.

Without --source, each PATH (a file or directory) gets back the content
staged in the index; with --source VERSION, the content it has in that
version (CLASS/SEQ[/N], CLASS/ALIAS[/N], a commit id or HEAD), and the index
is left as it is (the file then shows as modified if it differs from what is
staged; "ama checkout VERSION -- PATH" stages it too). Contents come from the
local store, or from the remote when the store lacks them or holds a damaged
copy; only the trees on the way to PATH are read. A file whose bytes are
neither the staged nor the restored content is not overwritten without
--force.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories to restore")
    p.add_argument("-s", "--source", metavar="VERSION", help="restore from this version instead of the index")
    p.add_argument("-f", "--force", action="store_true", help="overwrite files with changes not stored anywhere")
    p.add_argument("--remote", metavar="URL|NAME", help="remote to fetch from (default: core.remote, else origin)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    from ..access import open_source
    from ..restore import from_index, from_version

    repo = Repo.discover()
    rels = [repo.relpath(p) for p in args.paths]
    source = open_source(args.remote, repo.root)
    if args.source:
        files = from_version(source.version(args.source), rels)
        written, already = _restore(repo, source, files, args)
    else:
        # The staged contents, read under the index lock restore then holds.
        with repo.locked_index() as locked:
            written, already = _restore(repo, source, from_index(locked[1], rels), args, locked)
    report(written, already, args.quiet)
    return 0


def _restore(repo: Repo, source, files, args: argparse.Namespace, locked=None) -> tuple[list[str], list[str]]:
    from ..restore import restore

    with ui.Progress("Downloading", total=sum(f[1] for f in files.values()), unit="bytes") as bar:
        return restore(repo, source, files, stage=False, force=args.force, jobs=args.jobs, progress=bar.advance,
                       locked=locked)


def report(written: list[str], already: list[str], quiet: bool) -> None:
    if not quiet:
        ui.info(f"restored {len(written)} file(s)" + (f"; {len(already)} already up to date" if already else ""))

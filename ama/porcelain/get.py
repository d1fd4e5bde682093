"""Copy one file or directory of a version out of its remote, verified.

VERSION and the remote are as for "ama ls". DEST (-o) defaults to the
entry's name in the current directory (the root of a version:
CLASS-SEQ-N); an existing directory DEST receives the entry under its own
name. Every file is written under a temporary name and renamed into place
only once its bytes hashed to its id; a directory is assembled under a
temporary name and renamed into place once every file in it is, so DEST
never holds a partial or unverified copy. An existing file is replaced only
with --force; an existing directory never.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..access import open_source


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", metavar="VERSION")
    p.add_argument("path", metavar="PATH", help="a file or directory of the version ('' or / for all of it)")
    p.add_argument("-o", "--output", metavar="DEST", help="where to write it (default: its name, here)")
    p.add_argument("-f", "--force", action="store_true", help="replace an existing file DEST")
    p.add_argument("--remote", metavar="URL|NAME", help="the remote (default: the repository's, else the per-user store)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    version = open_source(args.remote).version(args.version)
    entry = version.entry(args.path)
    with ui.Progress("Downloading", total=entry.size, unit="bytes") as bar:
        dest, files = version.get(args.path, args.output or ".", args.jobs, args.force, bar.advance)
    if not args.quiet:
        total = sum(f.size for f in files)
        ui.info(f"{dest}: {len(files)} file(s), {ui.human_size(total)} from {version.name}")
    return 0

"""List the index: one path per line, sorted.

With -s (--stage) each line is "MODE ID SIZE<TAB>PATH". With -z records end
with NUL and paths are not quoted.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..objects import file_mode
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="limit to these paths")
    p.add_argument("-s", "--stage", action="store_true", help="show mode, id and size")
    p.add_argument("-z", action="store_true", help="NUL-terminated records")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    index = repo.load_index()
    paths = index.paths_under([repo.relpath(p) for p in args.paths]) if args.paths else index.sorted_paths()
    end = "\0" if args.z else "\n"
    quote = (lambda p: p) if args.z else ui.quote_path
    lines = []
    for path in paths:
        if args.stage:
            e = index.get(path)
            lines.append(f"{file_mode(e.mode)} {e.digest} {e.size}\t{quote(path)}{end}")
        else:
            lines.append(quote(path) + end)
    ui.out("".join(lines), end="")
    return 0

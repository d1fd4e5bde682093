"""Create an ama repository.

Creates DIR/.ama (DIR defaults to the current directory). Running it again in
an existing repository is safe: it changes only what the options say.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..config import LINK_MODES
from ..repo import init_repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", nargs="?", default=".", help="work tree to initialise (default: .)")
    p.add_argument("--linkmode", choices=LINK_MODES, help="how contents enter the store (default: auto)")


def run(args: argparse.Namespace) -> int:
    repo, existed = init_repo(args.directory, args.linkmode)
    verb = "Reinitialized existing" if existed else "Initialized empty"
    ui.info(f"{verb} ama repository in {repo.ama_dir}")
    return 0

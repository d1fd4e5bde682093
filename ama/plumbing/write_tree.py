"""Write the index as tree objects (one per directory) and print the root id.

The same index always gives the same id; an unchanged directory keeps its
tree id. Nothing is read from the work tree.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..objects import write_index_tree
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    index = repo.load_index()
    if index.tree and repo.store.has(index.tree):
        ui.out(index.tree)
    else:
        ui.out(write_index_tree(repo.store, index))
    return 0

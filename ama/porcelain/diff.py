"""Show which paths were added, removed or modified between two versions,
or between a version and the work tree.

With two names, A and B, the versions are compared. With one, version A is
compared with the work tree; with none, HEAD is (a work tree with no commit
yet is compared with nothing). The work tree means the tracked files as they
are now: what is staged, plus what changed since it was staged (changed
files are hashed to compare them). Untracked files are not part of it.
Names are HEAD, CLASS/SEQ, CLASS/SEQ/N, CLASS/ALIAS[/N] or commit ids.

Only trees are compared, never contents: an unchanged directory is skipped
without being read, and missing trees are fetched from the remote.

--name-status prints "X<TAB>PATH" per path, X being A (added), D (removed)
or M (modified: content or exec bit); -z prints "X<NUL>PATH<NUL>" instead.
A path removed and another added with the same content is a rename:
"R<TAB>OLD<TAB>NEW" ("R<NUL>OLD<NUL>NEW<NUL>" with -z); --no-renames shows
it as D and A instead.
Exit status: 0 when there are no differences, 1 when there are (like
'git diff --exit-code'), 2 and up on errors.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..errors import EXIT_DIFFERS
from ..history import ObjectReader
from ..refs import read_head
from ..repo import Repo
from ..treediff import ADDED, REMOVED, RENAMED, Change, MemoryTrees, diff_trees, find_renames, worktree_files

WORDS = {ADDED: ("added:   ", "green"), REMOVED: ("removed: ", "red"), "M": ("modified:", "yellow"),
         RENAMED: ("renamed: ", "cyan")}


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", nargs="?", metavar="A", help="a version (default: HEAD)")
    p.add_argument("new", nargs="?", metavar="B", help="another version (default: the work tree)")
    p.add_argument("--name-status", action="store_true", help="'X<TAB>PATH' lines for scripts")
    p.add_argument("-z", action="store_true", help="NUL-terminated 'X PATH' records (implies --name-status)")
    p.add_argument("--remote", help="remote to fetch missing trees from (default: core.remote, else origin)")
    p.add_argument("--no-renames", action="store_true", help="show a rename as a removed and an added path")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    reader = ObjectReader(repo, args.remote)
    if args.new is not None:
        old_tree = reader.commit(reader.resolve(args.old).commit).tree
        new_tree = reader.commit(reader.resolve(args.new).commit).tree
        changes = diff_trees(reader.read, old_tree, new_tree)
    else:
        if args.old is None and read_head(repo).commit is None:
            old_tree = None
        else:
            old_tree = reader.commit(reader.resolve(args.old or "HEAD").commit).tree
        trees = MemoryTrees(reader.read)
        index = repo.load_index()
        files = worktree_files(repo, index)
        new_tree = trees.build(files, {p for p in index.reference_paths() if files.get(p, ("",))[0] == index.digest(p)})
        changes = diff_trees(trees.read, old_tree, new_tree)
    if not args.no_renames:
        changes = find_renames(changes)
    if args.z:
        ui.out("".join(f"{c.status}\0{c.old_path}\0{c.path}\0" if c.old_path else f"{c.status}\0{c.path}\0"
                       for c in changes), end="")
    elif args.name_status:
        ui.out("".join(f"{c.status}\t{ui.quote_path(c.old_path)}\t{ui.quote_path(c.path)}\n" if c.old_path
                       else f"{c.status}\t{ui.quote_path(c.path)}\n" for c in changes), end="")
    elif changes:
        ui.print_rich("\n".join(_human(c) for c in changes))
    return EXIT_DIFFERS if changes else 0


def _human(change: Change) -> str:
    word, style = WORDS[change.status]
    if change.status == ADDED:
        sizes = ui.human_size(change.new_size or 0)
    elif change.status in (REMOVED, RENAMED):
        sizes = ui.human_size(change.old_size or 0)
    else:
        sizes = f"{ui.human_size(change.old_size or 0)} -> {ui.human_size(change.new_size or 0)}"
    shown = ui.quote_path(change.path)
    if change.old_path:
        shown = f"{ui.quote_path(change.old_path)} -> {shown}"
    return ui.styled(f"{word} {shown}", style) + f"  ({sizes})"

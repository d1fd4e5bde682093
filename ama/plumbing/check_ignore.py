"""Show which ignore rule decides each path, as 'git check-ignore' does.

Each PATH that is ignored is printed as given. With -v, every PATH a rule
matches is printed as "SOURCE:LINENO:PATTERN<TAB>PATH", including those
matched by a '!' rule that takes them back (they are not ignored); -n adds
the paths no rule matches, as "::<TAB>PATH". With -z fields and records end
with NUL. Rules are read from .amaignore and, inside a git repository, from
git's ignore files (docs/git-integration.md gives the order). A path that
is tracked (in the index) is never ignored, unless --no-index. Exit 0 if
any PATH is ignored, 1 if none is.
"""

from __future__ import annotations

import argparse
import os
import stat as statmod

from .. import ui
from ..errors import EXIT_DIFFERS, BadPath
from ..ignore import Ignorer, Match
from ..repo import Repo
from ..worktree import tracked_dirs


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="paths to check (a trailing '/' means a directory)")
    p.add_argument("-v", "--verbose", action="store_true", help="show the matching rule: SOURCE:LINENO:PATTERN")
    p.add_argument("-n", "--non-matching", action="store_true", help="with -v, also show paths no rule matches")
    p.add_argument("--no-index", action="store_true", help="check tracked paths against the rules too")
    p.add_argument("-z", action="store_true", help="NUL-terminated fields and records")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    tracked = None if args.no_index else repo.load_index()
    ignorer = Ignorer(repo.root, None if tracked is None else lambda: tracked_dirs(tracked.paths()))
    end = "\0" if args.z else "\n"
    sep = "\0" if args.z else "\t"
    field = "\0" if args.z else ":"
    records = []
    any_ignored = False
    for path in args.paths:
        rel, is_dir = _work_tree_path(repo, path)
        match = None if tracked is not None and rel in tracked else ignorer.match(rel, is_dir)
        ignored = match is not None and not match.negated
        any_ignored = any_ignored or ignored
        shown = path if args.z else ui.quote_path(path)
        if args.verbose:
            if match is not None or args.non_matching:
                records.append(_rule(match, field) + sep + shown + end)
        elif ignored:
            records.append(shown + end)
    ui.out("".join(records), end="")
    return 0 if any_ignored else EXIT_DIFFERS


def _work_tree_path(repo: Repo, path: str) -> tuple[str, bool]:
    """(work-tree relative path, is it a directory). Paths inside .ama/ are
    accepted: they are ignored by a built-in rule."""
    absolute = os.path.normpath(os.path.join(os.getcwd(), path))
    rel = os.path.relpath(absolute, repo.root).replace(os.sep, "/")
    if rel == "." or rel == ".." or rel.startswith("../"):
        raise BadPath(f"{path}: is outside the work tree {repo.root}" if rel != "." else f"{path}: is the work tree itself")
    if path.endswith("/"):
        return rel, True
    try:
        return rel, statmod.S_ISDIR(os.lstat(absolute).st_mode)
    except OSError:
        return rel, False


def _rule(match: Match | None, field: str) -> str:
    if match is None:
        return field.join(("", "", ""))
    return field.join((match.source, str(match.lineno), match.pattern))

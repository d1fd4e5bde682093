"""Sparse work trees: which files of a version are materialised.

The set is ``.ama/sparse``: gitignore-style patterns, one per line, that
*include* what they match (``!pattern`` excludes again). A path is in the set
when the last pattern matching it, or the deepest of its directories any
pattern decides, includes it: ``reads/`` then ``!reads/raw/`` takes all of
``reads/`` but ``reads/raw/``. No file means no sparse set: everything is
materialised.

Files outside the set stay in the index, marked skip-worktree ("not
materialised", index format v3): status does not check or report them,
commit carries them unchanged, and only the contents of files inside the
set are fetched (``sync.fetch_version``) and placed (``checkout.materialize``).
Adding a path outside the set widens the set to take it.
"""

from __future__ import annotations

import os

from .fsutil import atomic_write
from .repo import Repo

TYPE_CHECKING = False  # status imports this module (FILE): collections.abc for annotations only
if TYPE_CHECKING:
    from collections.abc import Iterable

FILE = "sparse"


class Sparse:
    """A set of include/exclude patterns."""

    def __init__(self, patterns: list[str]):
        from .ignore import _RuleFile

        self.patterns = patterns
        # ignore.py's compiled gitignore rules: here a "match" includes.
        self._rules = _RuleFile(f".ama/{FILE}", "\n".join(patterns).encode(), False)
        self._dirs: dict[str, bool | None] = {}

    def includes(self, path: str) -> bool:
        decided = False
        parts = path.split("/")
        for i in range(1, len(parts)):
            here = self._dir("/".join(parts[:i]))
            if here is not None:
                decided = here
        m = self._rules.last_match(path.encode(), False)
        return decided if m is None else not m.negated

    def _dir(self, path: str) -> bool | None:
        if path not in self._dirs:
            m = self._rules.last_match(path.encode(), True)
            self._dirs[path] = None if m is None else not m.negated
        return self._dirs[path]


def load(repo: Repo) -> Sparse | None:
    """The work tree's sparse set, or None when it materialises everything."""
    try:
        with open(repo.path(FILE), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return None
    return Sparse([line for line in lines if line.strip() and not line.startswith("#")])


def save(repo: Repo, patterns: list[str] | None) -> None:
    """Record the sparse set (None: no sparse set, everything materialised)."""
    if patterns is None:
        try:
            os.unlink(repo.path(FILE))
        except FileNotFoundError:
            pass
        return
    atomic_write(repo.path(FILE), "".join(p + "\n" for p in patterns).encode())


def patterns_from(include: Iterable[str], exclude: Iterable[str]) -> list[str]:
    """The patterns of ``--include`` / ``--exclude`` options (no include: everything)."""
    include, exclude = list(include), list(exclude)
    return (include or ["*"]) + [f"!{p}" for p in exclude]


def split(repo: Repo, files: dict[str, tuple]) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """``files`` (path -> anything) as (inside the sparse set, outside it)."""
    sparse = load(repo)
    if sparse is None:
        return files, {}
    inside, outside = {}, {}
    for path, value in files.items():
        (inside if sparse.includes(path) else outside)[path] = value
    return inside, outside


def widen(repo: Repo, paths: Iterable[str]) -> list[str]:
    """Add to the sparse set the ``paths`` it does not include; return them."""
    sparse = load(repo)
    if sparse is None:
        return []
    outside = [p for p in paths if not sparse.includes(p)]
    if outside:
        save(repo, sparse.patterns + ["/" + _escape(p) for p in outside])
    return outside


def _escape(path: str) -> str:
    """``path`` as a pattern matching exactly it."""
    out = []
    for ch in path:
        if ch in "*?[]\\!# ":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)

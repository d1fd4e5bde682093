"""Which work-tree paths ama leaves alone (docs/git-integration.md).

Rules come from these sources, in order of precedence:

1. built in: ``.ama/`` and ``.git/``; ama's own files at the work-tree
   root (``.amaignore``, ``.ama-asset``); inside a git repository, every
   ``.gitignore`` (git's files, not data);
2. ``.amaignore`` at the work-tree root;
3. inside a git repository, git's rules: the ``.gitignore`` files from the
   path's own directory up to the git work-tree root (deepest first, those
   above the ama work tree included), then ``$GIT_DIR/info/exclude``, then
   ``core.excludesFile`` (default ``~/.config/git/ignore``).

The first source with a line matching a path decides it; within one source
the last matching line wins, and a ``!pattern`` line decides "not ignored",
so ``.amaignore`` can take back what git ignores. As in git, everything
inside an ignored directory is ignored. The work-tree root itself is never
ignored, even where git ignores it.

git's rules say what git should leave alone, and data is exactly what git is
told to leave alone: they do not apply at or below a data directory — one
that holds a tracked path (``data_dirs``, from the index) or that was named
to ``ama add`` (``add_data_dir``). Only sources 1 and 2 decide there.

Patterns are parsed and matched by dulwich's ignore module. A walk pays
for each directory once: a directory's decision and the list of rule files
applying inside it are cached. Nothing is read, and dulwich is not
imported, until a path actually needs a decision.
"""

from __future__ import annotations

import errno
import os

TYPE_CHECKING = False  # re is imported where patterns are compiled: status without rules never pays for it
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Collection

ALWAYS_SKIPPED = frozenset({".ama", ".git"})
IGNORE_FILE = ".amaignore"
GITIGNORE = ".gitignore"
# ama's own files at the work-tree root: never data, never untracked.
ROOT_FILES = frozenset({IGNORE_FILE, ".ama-asset"})
BUILT_IN = "(built in)"
# ama's temporary files (ama.fsutil.is_temp_name), anywhere in the tree.
TEMP_NAMES = ".ama-tmp"


class Match:
    """The rule that decided a path: where it is written and what it says."""

    __slots__ = ("source", "lineno", "pattern", "negated")

    def __init__(self, source: str, lineno: int, pattern: str, negated: bool):
        self.source = source
        self.lineno = lineno
        self.pattern = pattern
        self.negated = negated

    def __str__(self) -> str:
        """git's ``check-ignore -v`` form: SOURCE:LINENO:PATTERN."""
        return f"{self.source}:{self.lineno}:{self.pattern}" if self.lineno else f"{self.source}: {self.pattern}"

    def __repr__(self) -> str:
        return f"Match({str(self)!r})"

    @property
    def from_git(self) -> bool:
        """Whether the rule is one of git's (not built in, not .amaignore)."""
        return self.source not in (BUILT_IN, IGNORE_FILE)


class _RuleFile:
    """The patterns of one ignore file, each with its line number.

    ``strip`` leading bytes of a work-tree path are dropped (a ``.gitignore``
    in a subdirectory) and ``lead`` is put in front (git's files above the
    work tree see it as a subdirectory) to get the name the file's patterns
    are written against.

    Most paths match no line of a file, so one regex made of all its
    patterns answers that first (one call instead of one per line); only a
    path it matches is tried line by line, by dulwich, for the deciding one.
    """

    __slots__ = ("source", "rules", "strip", "lead", "_any_file", "_any_dir")

    def __init__(self, source: str, raw: bytes, ignorecase: bool, strip: int = 0, lead: bytes = b""):
        from dulwich.ignore import Pattern, read_ignore_patterns

        self.source = source
        self.strip = strip
        self.lead = lead
        self.rules = []
        for lineno, line in enumerate(raw.splitlines(), 1):
            for text in read_ignore_patterns([line]):
                try:
                    self.rules.append((lineno, Pattern(text, ignorecase)))
                except Exception:  # noqa: BLE001 - git skips a malformed pattern, and so do we
                    continue
        self.rules.reverse()  # the last matching line wins
        self._any_file = _any_of([p for _, p in self.rules if not p.is_directory_only], ignorecase)
        self._any_dir = _any_of([p for _, p in self.rules], ignorecase)

    def last_match(self, rel: bytes, is_dir: bool) -> Match | None:
        name = self.lead + rel[self.strip:]
        any_match = self._any_dir if is_dir else self._any_file
        if any_match is None or any_match.match(name) is None:
            return None
        for lineno, pattern in self.rules:
            if pattern.matches(name, is_dir):
                text = pattern.pattern.decode("utf-8", "replace")
                return Match(self.source, lineno, text, not pattern.is_exclude)
        return None


def _any_of(patterns: list, ignorecase: bool) -> re.Pattern | None:
    """One regex matching a name if any of ``patterns`` does: the union of
    the regexes dulwich's ``Pattern.matches`` uses (``translate`` of the
    pattern without its '!', its escape and its trailing '/')."""
    import re

    from dulwich.ignore import translate

    parts = []
    for p in patterns:
        if p.is_empty:
            continue
        text = p.pattern
        if not p.is_exclude:
            text = text[1:]
        elif text[:1] == b"\\" and text[1:2] in (b"!", b"#"):
            text = text[1:]
        parts.append(b"(?:" + translate(text.rstrip(b"/")).removeprefix(b"(?ms)") + b")")
    if not parts:
        return None
    return re.compile(b"|".join(parts), re.M | re.S | (re.I if ignorecase else 0))


def _read_rules(path: str) -> bytes | None:
    """An ignore file's bytes; None if it is missing or a symlink (git
    refuses to read ignore files through symbolic links)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.EACCES):
            return None
        raise
    with os.fdopen(fd, "rb") as f:
        return f.read()


class Ignorer:
    """Ignore decisions for the paths of one work tree.

    Paths are work-tree relative, '/'-separated, without a trailing slash.
    """

    def __init__(self, root: str, data_dirs: Callable[[], Collection[str]] | None = None):
        """``data_dirs`` returns the directories holding tracked paths (called
        only when a git rule is about to decide, so a tree that needs no
        decision never pays for it)."""
        from .gitrepo import find_git_dir

        self.root = root
        self.git_root = find_git_dir(root)
        self.data_dirs_of = data_dirs
        self._data_dirs: set[str] | None = None
        self._in_data: dict[str, bool] = {}  # directory -> at or below a data directory
        self._has_amaignore = os.path.lexists(os.path.join(root, IGNORE_FILE))
        self._loaded = False
        self._ignorecase = False
        self._amaignore: _RuleFile | None = None
        self._git_global: list[_RuleFile] = []  # info/exclude, then core.excludesFile
        self._git_above: list[_RuleFile] = []  # .gitignore files above the work tree, deepest first
        self._sources: dict[str, list[_RuleFile]] = {}  # directory -> rule files, by precedence
        self._excluded: dict[str, Match | None] = {}  # directory -> the exclusion covering it

    @property
    def active(self) -> bool:
        """Whether any path other than the built-in ones can be ignored."""
        return self._has_amaignore or self.git_root is not None

    @property
    def shares_git_root(self) -> bool:
        """Whether the work-tree root is also the top of a git work tree."""
        return self.git_root is not None and os.path.samefile(self.git_root, self.root)

    def add_data_dir(self, rel_dir: str) -> None:
        """Take ``rel_dir`` as ama's data from now on (a directory named to
        ``ama add``): git's rules no longer hide anything at or below it."""
        if rel_dir and self.git_root is not None:
            self._data().add(rel_dir)
            self._in_data.clear()
            self._sources.clear()
            self._excluded.clear()

    def is_ignored(self, rel: str, is_dir: bool = False) -> bool:
        match = self.match(rel, is_dir)
        return match is not None and not match.negated

    def match(self, rel: str, is_dir: bool = False) -> Match | None:
        """The rule deciding ``rel``: an exclusion of one of its directories,
        else the first source's last line matching it (maybe a ``!`` line),
        else None."""
        top, _, _ = rel.partition("/")
        if top in ALWAYS_SKIPPED:
            return Match(BUILT_IN, 0, top + "/", False)
        if rel in ROOT_FILES:
            return Match(BUILT_IN, 0, rel, False)
        if rel.rpartition("/")[2].startswith(TEMP_NAMES):
            return Match(BUILT_IN, 0, TEMP_NAMES + "*", False)
        if not self.active:
            return None
        parent, _, name = rel.rpartition("/")
        if name == GITIGNORE and self.git_root is not None:
            return Match(BUILT_IN, 0, GITIGNORE, False)
        if not self._loaded:
            self._load()
        return self._excluded_dir(parent) or self._decide(rel, parent, is_dir)

    # -- decisions ---------------------------------------------------------

    def _decide(self, rel: str, parent: str, is_dir: bool) -> Match | None:
        name = os.fsencode(rel)
        # A data directory itself is decided without git's rules, as what is in it.
        where = rel if is_dir and self.git_root is not None and self._in_data_dir(rel) else parent
        for rules in self._sources_for(where):
            found = rules.last_match(name, is_dir)
            if found is not None:
                return found
        return None

    def _excluded_dir(self, rel_dir: str) -> Match | None:
        """The exclusion of ``rel_dir`` or of a directory above it."""
        if not rel_dir:
            return None
        try:
            return self._excluded[rel_dir]
        except KeyError:
            pass
        parent = rel_dir.rpartition("/")[0]
        found = self._excluded_dir(parent)
        if found is not None and found.from_git and self.git_root is not None and self._in_data_dir(rel_dir):
            found = None  # a data directory inside one git ignores (ama add data/raw, git ignores data/)
        if found is None:
            own = self._decide(rel_dir, parent, True)
            found = own if own is not None and not own.negated else None
        self._excluded[rel_dir] = found
        return found

    def _sources_for(self, rel_dir: str) -> list[_RuleFile]:
        """The rule files deciding entries of ``rel_dir``, by precedence."""
        try:
            return self._sources[rel_dir]
        except KeyError:
            pass
        if rel_dir and self.git_root is not None and self._in_data_dir(rel_dir):
            # ama's data: git's rules do not apply here, only .amaignore.
            sources = [self._amaignore] if self._amaignore is not None else []
        elif rel_dir:
            inherited = self._sources_for(rel_dir.rpartition("/")[0])
            own = self._gitignore(rel_dir)
            if own is None:
                sources = inherited
            else:
                first = 1 if self._amaignore is not None else 0
                sources = inherited[:first] + [own] + inherited[first:]
        else:
            own = self._gitignore("")
            sources = [own] if own is not None else []
            sources += self._git_above + self._git_global
            if self._amaignore is not None:
                sources.insert(0, self._amaignore)
        self._sources[rel_dir] = sources
        return sources

    def _data(self) -> set[str]:
        if self._data_dirs is None:
            self._data_dirs = set(self.data_dirs_of()) if self.data_dirs_of is not None else set()
        return self._data_dirs

    def _in_data_dir(self, rel_dir: str) -> bool:
        """Whether ``rel_dir`` (not the root) is a data directory or below one."""
        try:
            return self._in_data[rel_dir]
        except KeyError:
            pass
        parent = rel_dir.rpartition("/")[0]
        inside = rel_dir in self._data() or (bool(parent) and self._in_data_dir(parent))
        self._in_data[rel_dir] = inside
        return inside

    def _gitignore(self, rel_dir: str) -> _RuleFile | None:
        if self.git_root is None:
            return None
        source = f"{rel_dir}/{GITIGNORE}" if rel_dir else GITIGNORE
        raw = _read_rules(os.path.join(self.root, source))
        if raw is None:
            return None
        rules = _RuleFile(source, raw, self._ignorecase, strip=len(os.fsencode(rel_dir)) + 1 if rel_dir else 0)
        return rules if rules.rules else None

    # -- loading -----------------------------------------------------------

    def _load(self) -> None:
        self._loaded = True
        if self._has_amaignore:
            raw = _read_rules(os.path.join(self.root, IGNORE_FILE))
            if raw is not None:
                self._amaignore = _RuleFile(IGNORE_FILE, raw, False)
        if self.git_root is not None:
            self._load_git()

    def _load_git(self) -> None:
        from dulwich.ignore import default_user_ignore_filter_path
        from dulwich.repo import Repo as GitRepo

        try:
            git = GitRepo(self.git_root)
            config = git.get_config_stack()
            self._ignorecase = config.get_boolean((b"core",), b"ignorecase", False)
            common = git.commondir()
        except Exception:  # noqa: BLE001 - an unreadable git repository only loses its rules
            return
        # The work tree as git sees it, and the .gitignore files above it.
        inside = os.path.relpath(self.root, self.git_root).replace(os.sep, "/")
        inside = "" if inside == "." else inside
        if inside:
            parts = inside.split("/")
            for depth in range(len(parts) - 1, -1, -1):
                git_dir = "/".join(parts[:depth])
                path = os.path.join(self.git_root, git_dir, GITIGNORE)
                raw = _read_rules(path)
                if raw is not None:
                    lead = os.fsencode("/".join(parts[depth:]) + "/")
                    self._keep(self._git_above, _RuleFile(self._show(path), raw, self._ignorecase, lead=lead))
        lead = os.fsencode(inside + "/" if inside else "")
        exclude = os.path.join(common, "info", "exclude")
        user = os.path.expanduser(default_user_ignore_filter_path(config))
        for path, shown in ((exclude, self._show(exclude)), (user, user)):
            raw = _read_rules(path)
            if raw is not None:
                self._keep(self._git_global, _RuleFile(shown, raw, self._ignorecase, lead=lead))

    @staticmethod
    def _keep(sources: list[_RuleFile], rules: _RuleFile) -> None:
        """Add ``rules`` unless it has no pattern (git's default
        info/exclude holds only comments)."""
        if rules.rules:
            sources.append(rules)

    def _show(self, path: str) -> str:
        return os.path.relpath(path, self.root).replace(os.sep, "/")

"""Which work-tree paths ama leaves alone.

Rules come from ``.amaignore`` at the work-tree root (gitignore syntax) and
are matched by dulwich's ignore module. ``.ama/`` and ``.git/`` are always
skipped. dulwich is imported only when there are rules to match.
"""

from __future__ import annotations

import os

ALWAYS_SKIPPED = frozenset({".ama", ".git"})
IGNORE_FILE = ".amaignore"
# ama's own files at the work-tree root: never data, never untracked.
ROOT_FILES = frozenset({IGNORE_FILE, ".ama-asset"})


class Match:
    """The rule that decided a path: where it is written and what it says."""

    def __init__(self, source: str, lineno: int, pattern: str, negated: bool):
        self.source = source
        self.lineno = lineno
        self.pattern = pattern
        self.negated = negated


class Ignorer:
    def __init__(self, root: str):
        self.root = root
        self._rules: list[tuple[str, object]] = []  # (source, IgnoreFilter)
        self._lines: dict[str, list[str]] = {}
        self._load(os.path.join(root, IGNORE_FILE), IGNORE_FILE)

    def _load(self, path: str, source: str) -> None:
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return
        from dulwich.ignore import IgnoreFilter

        lines = raw.splitlines()
        self._lines[source] = [line.decode("utf-8", "replace") for line in lines]
        self._rules.append((source, IgnoreFilter(lines)))

    @property
    def active(self) -> bool:
        return bool(self._rules)

    def is_ignored(self, rel: str, is_dir: bool = False) -> bool:
        match = self.match(rel, is_dir)
        return match is not None and not match.negated

    def match(self, rel: str, is_dir: bool = False) -> Match | None:
        """The last rule matching ``rel`` or one of its parent directories."""
        if rel.split("/", 1)[0] in ALWAYS_SKIPPED:
            return Match("(built in)", 0, rel.split("/", 1)[0] + "/", False)
        if rel in ROOT_FILES:
            return Match("(built in)", 0, rel, False)
        if not self._rules:
            return None
        parts = rel.split("/")
        # A file inside an ignored directory is ignored, whatever a later
        # rule says about the file itself (gitignore semantics).
        for depth in range(1, len(parts)):
            found = self._last_match("/".join(parts[:depth]) + "/")
            if found is not None and not found.negated:
                return found
        return self._last_match(rel + ("/" if is_dir else ""))

    def _last_match(self, path: str) -> Match | None:
        found = None
        for source, rules in self._rules:
            for pattern in rules.find_matching(path):
                pattern_text = pattern.pattern.decode("utf-8", "replace")
                lineno = self._lineno(source, pattern_text)
                found = Match(source, lineno, pattern_text, pattern_text.startswith("!"))
        return found

    def _lineno(self, source: str, pattern: str) -> int:
        for n, line in enumerate(self._lines.get(source, []), 1):
            if line.strip() == pattern.strip():
                return n
        return 0

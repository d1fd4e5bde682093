"""The file names a version may hold: one rule for ``add`` and ``checkout``.

A name is accepted by ``add`` exactly when ``checkout`` and ``clone`` can
write it back, so every committed version round-trips (docs/object-format.md,
"Names"). A path is '/'-separated and relative; it is refused when:

- it is not valid UTF-8, or holds NUL, a newline or a backslash (trees are
  line-based; a backslash is a separator on Windows, so it is refused on
  every system);
- a component is empty, ``.`` or ``..``, or longer than 255 bytes (the
  name limit of Linux file systems), or there are more than 512 of them;
- a component is ``.git`` or ``.ama`` in any letter case (git's and ama's
  own directories: a version must never write hooks or a repository);
- it is one of ama's control files at the work-tree root: ``.ama-asset``
  (checkout writes it itself) or ``.amaignore`` (the user's rules for this
  work tree, never handed out by a version). Below the root both are
  ordinary files: ama reads neither there.
"""

from __future__ import annotations

from .errors import BadPath

RESERVED_DIRS = frozenset({".git", ".ama"})
ROOT_CONTROL_FILES = frozenset({".ama-asset", ".amaignore"})
NAME_MAX = 255
# Deeper paths (and trees) are refused: recursion over trees stays bounded.
MAX_DEPTH = 512


_HEX_DIGITS = frozenset("0123456789abcdef")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_CLASS_CHARS = _ALNUM | frozenset("._-")


def is_hex64(value: object) -> bool:
    """Whether ``value`` is an object id: 64 lower-case hex digits.

    (Set tests rather than a regular expression: ``re`` costs ``ama status``
    several milliseconds of start-up.)"""
    return isinstance(value, str) and len(value) == 64 and _HEX_DIGITS.issuperset(value)


def is_class_name(value: object) -> bool:
    """Whether ``value`` is an asset class name: an ASCII letter or digit,
    then letters, digits, '.', '_' and '-'."""
    return isinstance(value, str) and value[:1] in _ALNUM and _CLASS_CHARS.issuperset(value)


def is_reserved_dir(component: str) -> bool:
    """Whether a directory of this name is git's or ama's (any letter case)."""
    return component.lower() in RESERVED_DIRS


def name_problem(path: str) -> str | None:
    """Why ``path`` cannot be a file of a version, or None if it can."""
    if not path or path.startswith("/"):
        return "not a plain relative path"
    if "\0" in path or "\n" in path:
        return "file name contains a newline or NUL"
    if "\\" in path:
        return "file name contains a backslash"
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8"
    parts = path.split("/")
    if len(parts) > MAX_DEPTH:
        return f"it is nested deeper than {MAX_DEPTH} directories"
    for part in parts:
        if part in ("", ".", ".."):
            return "it has '..', '.' or an empty component"
        if is_reserved_dir(part):
            return f"it is inside {part}/"
        if len(part.encode()) > NAME_MAX:
            return f"a file name is longer than {NAME_MAX} bytes"
    if len(parts) == 1 and path in ROOT_CONTROL_FILES:
        return f"{path} is an ama control file"
    return None


def check_path(path: str, display: str) -> None:
    """Refuse a name ``add`` must not stage (one line, exit 4)."""
    problem = name_problem(path)
    if problem:
        raise BadPath(f"{display!r}: {problem}; ama cannot version it, rename it")

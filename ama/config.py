"""``.ama/config``: git-style INI, addressed by git-style keys.

``core.linkmode`` is section ``[core]`` key ``linkmode``;
``remote.origin.url`` is section ``[remote "origin"]`` key ``url``.

The file is read by a small parser of its plain form (what ama writes:
``[section]`` lines, ``name = value`` lines, blank and comment lines), which
gives exactly what configparser would; anything else (continuation lines,
duplicates, lines that are neither, non-ASCII text) is read by configparser
itself, as is every file that is about to be changed. configparser and the
``re`` it needs cost ``ama status`` more than the rest of its start-up.
"""

from __future__ import annotations

from .errors import Corrupt, UsageError
from .fsutil import atomic_write

LINK_MODES = ("auto", "reflink", "hardlink", "copy")


def split_key(key: str) -> tuple[str, str]:
    parts = key.split(".")
    if len(parts) < 2 or not all(parts):
        raise UsageError(f"bad config key '{key}': expected section.name or section.sub.name")
    if len(parts) == 2:
        return parts[0].lower(), parts[1].lower()
    return f'{parts[0].lower()} "{".".join(parts[1:-1])}"', parts[-1].lower()


def join_key(section: str, name: str) -> str:
    if '"' in section:
        head, sub = section.split(" ", 1)
        return f"{head}.{sub.strip(chr(34))}.{name}"
    return f"{section}.{name}"


def parse_plain(text: str) -> dict[str, dict[str, str]] | None:
    """section -> {name: value} as configparser (defaults, no interpolation)
    reads ``text``, if ``text`` is in the plain form; None if it is not."""
    if not (text.isascii() and text.replace("\t", "").replace("\n", "").isprintable()):
        return None
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if line[0] in " \t":
            return None  # indented: maybe a continuation line
        if stripped[0] == "[":
            name = stripped[1:-1]
            if stripped[-1] != "]" or not name or "]" in name or name in sections:
                return None
            current = sections[name] = {}
            continue
        cut = min((i for i in (stripped.find("="), stripped.find(":")) if i >= 0), default=-1)
        key = stripped[:cut].rstrip().lower()
        if current is None or cut < 0 or not key or key in current:
            return None
        current[key] = stripped[cut + 1 :].strip()
    return sections


class Config:
    def __init__(self, path: str):
        self.path = path
        self._parser = None
        try:
            with open(path, encoding="utf-8") as f:
                self._text = f.read()
        except FileNotFoundError:
            self._text = ""
        except UnicodeDecodeError:
            raise Corrupt(f"{path}: cannot parse (it is not UTF-8 text)") from None
        self._plain = parse_plain(self._text)
        if self._plain is None:
            self._load_parser()  # now: a damaged file is refused here
        fmt = self.get("core.formatversion", "1")
        if fmt != "1":
            if fmt and fmt.isascii() and fmt.isdigit():
                raise Corrupt(f"{path}: core.formatversion is {fmt}; this ama reads repositories of format 1")
            raise Corrupt(f"{path}: core.formatversion is '{fmt}', not a number")

    @property
    def parser(self):
        """The file as a ``configparser.ConfigParser`` (built on first use)."""
        if self._parser is None:
            self._load_parser()
        return self._parser

    def _load_parser(self) -> None:
        import configparser

        parser = configparser.ConfigParser(interpolation=None, default_section="\0")
        try:
            parser.read_string(self._text, self.path)
        except configparser.Error as e:
            raise Corrupt(f"{self.path}: cannot parse ({str(e).splitlines()[0]})") from None
        self._parser = parser
        self._plain = None

    def get(self, key: str, default: str | None = None) -> str | None:
        section, name = split_key(key)
        if self._plain is not None:
            return self._plain.get(section, {}).get(name, default)
        return self.parser.get(section, name, fallback=default)

    def set(self, key: str, value: str) -> None:
        section, name = split_key(key)
        if not self.parser.has_section(section):
            self.parser.add_section(section)
        self.parser.set(section, name, value)

    def unset(self, key: str) -> bool:
        section, name = split_key(key)
        if not self.parser.has_section(section):
            return False
        removed = self.parser.remove_option(section, name)
        if not self.parser.items(section):
            self.parser.remove_section(section)
        return removed

    def remove_section(self, key_prefix: str) -> bool:
        """Remove e.g. ``remote.origin`` (the whole ``[remote "origin"]``)."""
        section, _ = split_key(key_prefix + ".x")
        return self.parser.remove_section(section)

    def subsections(self, head: str) -> list[str]:
        """Names ``n`` of every ``[head "n"]`` section."""
        prefix = f'{head} "'
        return [s[len(prefix) : -1] for s in self.parser.sections() if s.startswith(prefix)]

    def items(self) -> list[tuple[str, str]]:
        return [
            (join_key(section, name), value)
            for section in self.parser.sections()
            for name, value in self.parser.items(section)
        ]

    @property
    def linkmode(self) -> str:
        mode = self.get("core.linkmode", "auto") or "auto"
        if mode not in LINK_MODES:
            raise Corrupt(f"{self.path}: core.linkmode is '{mode}'; expected one of {', '.join(LINK_MODES)}")
        return mode

    def save(self) -> None:
        import io

        buf = io.StringIO()
        self.parser.write(buf)
        atomic_write(self.path, buf.getvalue().encode())

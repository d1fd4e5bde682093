"""``.ama/config``: git-style INI, addressed by git-style keys.

``core.linkmode`` is section ``[core]`` key ``linkmode``;
``remote.origin.url`` is section ``[remote "origin"]`` key ``url``.
"""

from __future__ import annotations

import configparser
import io

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


class Config:
    def __init__(self, path: str):
        self.path = path
        self.parser = configparser.ConfigParser(interpolation=None, default_section="\0")
        try:
            with open(path, encoding="utf-8") as f:
                self.parser.read_file(f)
        except FileNotFoundError:
            pass
        except configparser.Error as e:
            raise Corrupt(f"{path}: cannot parse ({str(e).splitlines()[0]})") from None
        except UnicodeDecodeError:
            raise Corrupt(f"{path}: cannot parse (it is not UTF-8 text)") from None
        fmt = self.get("core.formatversion", "1")
        if fmt != "1":
            if fmt and fmt.isascii() and fmt.isdigit():
                raise Corrupt(f"{path}: core.formatversion is {fmt}; this ama reads repositories of format 1")
            raise Corrupt(f"{path}: core.formatversion is '{fmt}', not a number")

    def get(self, key: str, default: str | None = None) -> str | None:
        section, name = split_key(key)
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
        buf = io.StringIO()
        self.parser.write(buf)
        atomic_write(self.path, buf.getvalue().encode())

"""Get or set repository options in .ama/config.

Keys are git-style: section.name (core.linkmode, core.remote) or
section.subsection.name (remote.origin.url, remote.origin.endpoint).
'ama config KEY' prints the value, or exits 1 without output when the key
is not set, as git does. 'ama config KEY VALUE' sets it; --unset removes it
(exit 1 if it was not set); --list prints every "key=value".

Only keys that ama reads can be set (a typo is refused with the list of
known keys): core.linkmode, core.remote, core.objects, core.autostage,
core.pushrefs, hooks.precommit (refuse or warn: what the git pre-commit
hook does when .ama-asset differs from what git commits),
status.showUntracked (no, normal or all: the default of 'ama status -u'),
user.name, user.email, and remote.NAME.url/endpoint/region/profile/singlewriter/ifmatch/writes.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..config import LINK_MODES, split_key
from ..errors import EXIT_DIFFERS, UsageError
from ..repo import Repo

CHECKS = {
    "core.linkmode": LINK_MODES,
    "core.autostage": ("true", "false"),
    "core.pushrefs": ("true", "false"),
    "hooks.precommit": ("refuse", "warn"),
    "status.showuntracked": ("no", "normal", "all"),
}
# Keys ama reads (core.formatversion and core.linkused are written by ama
# itself); remote.NAME.* are checked by their last part.
KNOWN = ("core.linkmode", "core.remote", "core.objects", "core.autostage", "core.pushrefs", "hooks.precommit",
         "status.showuntracked", "user.name", "user.email")
WRITTEN_BY_AMA = ("core.formatversion", "core.linkused")
REMOTE_KEYS = ("url", "endpoint", "region", "profile", "singlewriter", "ifmatch", "writes")


def check_known(key: str) -> None:
    """Refuse a key ama would never read, naming the ones it does."""
    parts = key.lower().split(".")
    if key.lower() in KNOWN or (len(parts) >= 3 and parts[0] == "remote" and parts[-1] in REMOTE_KEYS):
        return
    if key.lower() in WRITTEN_BY_AMA:
        raise UsageError(f"{key} is written by ama itself; set core.linkmode instead" if key.lower() == "core.linkused"
                         else f"{key} is written by ama itself")
    known = ", ".join(KNOWN + tuple(f"remote.NAME.{k}" for k in REMOTE_KEYS))
    raise UsageError(f"unknown config key '{key}'; known keys: {known}")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("key", nargs="?", metavar="KEY")
    p.add_argument("value", nargs="?", metavar="VALUE")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--unset", action="store_true", help="remove KEY")
    what.add_argument("-l", "--list", action="store_true", help="print every key=value")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    config = repo.config
    if args.list:
        if args.key is not None:
            raise UsageError("--list takes no KEY")
        for key, value in config.items():
            ui.out(f"{key}={value}")
        return 0
    if args.key is None:
        raise UsageError("name a KEY (section.name), or use --list")
    split_key(args.key)
    if args.unset:
        if args.value is not None:
            raise UsageError("--unset takes a KEY only")
        if not config.unset(args.key):
            return EXIT_DIFFERS
        config.save()
        return 0
    if args.value is None:
        value = config.get(args.key)
        if value is None:
            return EXIT_DIFFERS
        ui.out(value)
        return 0
    if "\n" in args.value or "\r" in args.value:
        raise UsageError("a config value cannot contain a newline")
    check_known(args.key)
    allowed = CHECKS.get(args.key.lower())
    if allowed and args.value not in allowed:
        raise UsageError(f"{args.key} must be one of {', '.join(allowed)}, not '{args.value}'")
    config.set(args.key, args.value)
    config.save()
    return 0

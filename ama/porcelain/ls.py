"""List the files of a version, from its remote, without a work tree.

VERSION is CLASS/SEQ (latest), CLASS/SEQ/N, CLASS/ALIAS[/N], or (inside a
repository) HEAD or a commit id. PATH is a directory of the version (default:
its root) or a file. Prints one name per line, relative to PATH, directories
with a trailing "/"; with -r, every file below PATH (no directories). With
--long, "MODE KIND ID SIZE<TAB>NAME", the format of ls-tree (SIZE of a
directory: every byte below it). -z ends lines with NUL and does not quote
names. The remote is --remote (a URL, or a remote of the repository by
name), else the repository's default remote, else (outside a repository) the
per-user store. Only the trees on the way to PATH are fetched.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..access import open_source
from ..objects import MODE_EXEC, MODE_FILE, MODE_TREE


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", metavar="VERSION")
    p.add_argument("path", nargs="?", default="", metavar="PATH", help="a directory or file (default: the root)")
    p.add_argument("-r", "--recursive", action="store_true", help="every file below PATH")
    p.add_argument("-l", "--long", action="store_true", help="mode, kind, id and size of each entry")
    p.add_argument("-z", action="store_true", help="NUL-terminated lines, names not quoted")
    p.add_argument("--remote", metavar="URL|NAME", help="the remote (default: the repository's, else the per-user store)")


def run(args: argparse.Namespace) -> int:
    version = open_source(args.remote).version(args.version)
    top = version.entry(args.path)
    entries = version.ls(args.path, recursive=args.recursive)
    cut = len(top.path) + 1 if top.is_dir and top.path else 0
    end = "\0" if args.z else "\n"
    quote = (lambda p: p) if args.z else ui.quote_path
    lines = []
    for e in entries:
        name = e.path[cut:] if top.is_dir else e.path
        if args.long:
            mode = MODE_TREE if e.is_dir else MODE_EXEC if e.executable else MODE_FILE
            kind = "tree" if e.is_dir else "file"
            lines.append(f"{mode} {kind} {e.id} {e.size}\t{quote(name)}{end}")
        else:
            lines.append(f"{quote(name)}{'/' if e.is_dir else ''}{end}")
    ui.out("".join(lines), end="")
    return 0

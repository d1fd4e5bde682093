"""Name an asset: CLASS/ALIAS for CLASS/SEQ, on the remote.

'ama alias set NAME' makes CLASS/NAME name the current asset (it must have
been committed: aliases name a seq); an alias that already names another
asset is moved only with --force (exit 8 otherwise). 'ama alias list
[CLASS]' prints "ALIAS<TAB>CLASS/SEQ" for every alias of the class (default:
the current one). An alias works wherever a version name is taken:
CLASS/NAME is the latest version, CLASS/NAME/N version N. NAME uses letters,
digits, '.', '_' and '-', and is not all digits (that would be a seq).
"""

from __future__ import annotations

import argparse

from .. import ui
from ..assets import Assets
from ..errors import UsageError
from ..refs import CLASS_NAME, check_class, read_head
from ..remotes import open_repo_remote
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    put = sub.add_parser("set", help="name the current asset", description="Make CLASS/NAME name the current asset.")
    put.add_argument("name", metavar="NAME")
    put.add_argument("-f", "--force", action="store_true", help="move the alias if it names another asset")
    put.add_argument("--remote", help="remote to record it on (default: core.remote, else origin)")
    ls = sub.add_parser("list", help="list the aliases of a class", description="List the aliases of CLASS.")
    ls.add_argument("cls", nargs="?", metavar="CLASS", help="asset class (default: the current one)")
    ls.add_argument("--remote", help="remote to read (default: core.remote, else origin)")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    head = read_head(repo)
    if args.action == "list":
        cls = check_class(args.cls) if args.cls else head.cls
        aliases = Assets(open_repo_remote(repo, args.remote)).list_aliases(cls)
        for name in sorted(aliases):
            ui.out(f"{name}\t{cls}/{aliases[name]}")
        return 0
    name = args.name
    if name.isdigit() or not CLASS_NAME.match(name) or name.endswith(".lock"):
        raise UsageError(f"bad alias '{name}': use letters, digits, '.', '_' and '-', not only digits")
    if head.seq is None:
        raise UsageError(f"asset class {head.cls} has no commits yet: commit first, then name the asset")
    Assets(open_repo_remote(repo, args.remote)).set_alias(head.cls, name, head.seq, force=args.force)
    ui.out(f"{head.cls}/{name} -> {head.asset}")
    return 0

"""List the version records of an asset on the remote, oldest first.

ASSET is CLASS/SEQ or CLASS/ALIAS (default: the current asset). Only
committed versions are listed unless --all, which adds reservations
(unfinished or interrupted commits) and abandoned ones, with their status.

On a terminal this is a table. Piped, each version is one line of
tab-separated fields, stable for scripts:
"VERSION COMMIT12 AUTHOR DATE SIZE MESSAGE", with --all a STATUS field after
VERSION. DATE is UTC ("YYYY-MM-DD HH:MM:SS +0000"), SIZE is in bytes, and a
field with no value (a reservation has no commit) is "-".
"""

from __future__ import annotations

import argparse

from .. import ui
from ..assets import COMMITTED, Assets, parse_asset_name
from ..errors import UsageError
from ..ident import format_time
from ..refs import read_head
from ..remotes import open_repo_remote
from ..repo import Repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("asset", nargs="?", metavar="ASSET", help="CLASS/SEQ or CLASS/ALIAS (default: the current asset)")
    p.add_argument("--all", action="store_true", help="also reserved and abandoned versions")
    p.add_argument("--remote", help="remote to read (default: core.remote, else origin)")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    remote = open_repo_remote(repo, args.remote)
    assets = Assets(remote)
    if args.asset:
        cls, middle, n = parse_asset_name(args.asset)
        if n is not None:
            raise UsageError(f"'{args.asset}': name an asset (CLASS/SEQ or CLASS/ALIAS), not one version")
        seq = middle if isinstance(middle, int) else assets.resolve_alias(cls, middle)
    else:
        head = read_head(repo)
        if head.seq is None:
            raise UsageError(f"asset class {head.cls} has no commits yet: name an asset, CLASS/SEQ")
        cls, seq = head.cls, head.seq
    assets.read_asset(cls, seq)
    records = [r for r in assets.versions(cls, seq) if args.all or r.get("status") == COMMITTED]
    rows = [_row(r, args.all) for r in records]
    if ui.is_tty():
        _table(f"{cls}/{seq}", rows, args.all)
    else:
        for row in rows:
            ui.out("\t".join(field.replace("\t", " ") for field in row))
    return 0


def _row(record: dict, with_status: bool) -> list[str]:
    committed = record.get("status") == COMMITTED
    when = record.get("time") if committed else record.get("reserved_at")
    row = [
        str(record.get("version", "?")),
        (record.get("commit") or "-")[:12] if committed else "-",
        record.get("author") or record.get("user") or "-",
        format_time(int(when), "+0000") if when is not None else "-",
        str(record["size"]) if committed and "size" in record else "-",
        (record.get("message") or "-") if committed else "-",
    ]
    if with_status:
        row.insert(1, str(record.get("status", "?")))
    return row


def _table(title: str, rows: list[list[str]], with_status: bool) -> None:
    """The same rows for people: sizes in KiB/MiB, dates to the minute,
    authors by name."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"versions of {title}", title_justify="left", show_edge=False, pad_edge=False)
    headers = ["version", "status", "commit", "author", "date", "size", "message"]
    if not with_status:
        headers.remove("status")
    at = {h: i for i, h in enumerate(headers)}
    shown_rows = []
    for row in rows:
        shown = list(row)
        if shown[at["size"]] != "-":
            shown[at["size"]] = ui.human_size(int(shown[at["size"]]))
        shown[at["date"]] = shown[at["date"]][:16]
        shown[at["author"]] = shown[at["author"]].split(" <", 1)[0]
        shown_rows.append(shown)
    for h in headers:
        if h == "message":
            table.add_column(h, min_width=12, overflow="ellipsis", no_wrap=True)
        else:
            width = max([len(h)] + [len(r[at[h]]) for r in shown_rows])
            table.add_column(h, justify="right" if h in ("version", "size") else "left", no_wrap=True, min_width=width)
    for row, shown in zip(rows, shown_rows, strict=True):
        style = None if not with_status or row[1] == COMMITTED else "dim"
        table.add_row(*(Text(cell) for cell in shown), style=style)
    ui.console().print(table)

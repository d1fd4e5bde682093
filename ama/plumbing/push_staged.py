"""Upload every staged content the remote lacks, verified.

Each object's bytes are hashed as they are sent; a file whose bytes no
longer match the id it was added under (a hardlinked file edited after add)
is refused and named, and nothing is published under the wrong name (exit
10). Objects already on the remote are skipped after an existence check.
Prints "uploaded N, skipped M, BYTES bytes".
"""

from __future__ import annotations

import argparse

from .. import ui
from ..remotes import open_repo_remote
from ..repo import Repo
from ..version_transfer import push_staged


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--remote", help="remote name (default: core.remote, else origin)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel uploads (default: 8)")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    remote = open_repo_remote(repo, args.remote)
    result = push_staged(repo, remote, repo.load_index(), jobs=args.jobs)
    ui.out(f"uploaded {len(result.uploaded)}, skipped {len(result.skipped)}, {result.bytes_sent} bytes")
    return 0

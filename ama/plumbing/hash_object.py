"""Print the BLAKE3 id of each file (the same as b3sum); -w also stores it.

Ids are 64 lowercase hex digits, one per line, in argument order. With
--stdin the content is read from standard input; with --stdin-paths the file
names are (one per line, or NUL-separated with -z).
"""

from __future__ import annotations

import argparse
import os
import sys

from .. import ui
from ..errors import UsageError
from ..hashing import hash_path, new_hasher


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("-w", dest="write", action="store_true", help="also store the content in the object store")
    p.add_argument("--stdin", action="store_true", help="hash the content of standard input")
    p.add_argument("--stdin-paths", action="store_true", help="read file names from standard input")
    p.add_argument("-z", action="store_true", help="with --stdin-paths: names are NUL-separated")


def run(args: argparse.Namespace) -> int:
    if args.stdin and args.stdin_paths:
        raise UsageError("--stdin and --stdin-paths cannot be combined")
    repo = None
    if args.write:
        from ..repo import Repo

        repo = Repo.discover()
    if args.stdin:
        ui.out(_hash_stdin(repo))
    files = list(args.files)
    if args.stdin_paths:
        data = sys.stdin.buffer.read()
        sep = b"\0" if args.z else b"\n"
        files += [os.fsdecode(n) for n in data.split(sep) if n]
    for path in files:
        if repo is not None:
            from ..staging import store_file

            # Only a file the index will track may share the store's inode:
            # an in-place edit of any other would go unnoticed.
            _, digest, _, _ = store_file(repo, path, os.path.abspath(path), shared_ok=False)
            ui.out(digest)
        else:
            digest, _ = hash_path(path, path)
            ui.out(digest)
    return 0


def _hash_stdin(repo) -> str:
    hasher = new_hasher(1 << 30)
    chunks = []
    stream = sys.stdin.buffer
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        hasher.update(chunk)
        if repo is not None:
            chunks.append(chunk)
    digest = hasher.hexdigest()
    if repo is not None:
        repo.store.write_bytes(b"".join(chunks))
    return digest

"""Write one file of a version to standard output, verified as it streams.

VERSION and the remote are as for "ama ls". The bytes come from the local
store when it has the content, else straight from the remote, without being
stored. They are hashed as they pass: if they do not match the file's id the
command fails (exit 10) before the last bytes are written, so a consumer that
checks the exit status never takes a damaged file for a good one.
"""

from __future__ import annotations

import argparse
import sys

from ..access import CHUNK, open_source


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("version", metavar="VERSION")
    p.add_argument("path", metavar="PATH", help="a file of the version")
    p.add_argument("--remote", metavar="URL|NAME", help="the remote (default: the repository's, else the per-user store)")


def run(args: argparse.Namespace) -> int:
    version = open_source(args.remote).version(args.version)
    out = sys.stdout.buffer
    sys.stdout.flush()
    with version.open(args.path) as f:
        while chunk := f.read(CHUNK):
            out.write(chunk)
    out.flush()
    return 0

"""Create an ama repository.

Creates DIR/.ama (DIR defaults to the current directory). The asset class
defaults to the directory's name; the remote defaults to the per-user
embedded store ($AMA_HOME/store, default ~/.local/share/ama/store). Running
it again in an existing repository is safe: it changes only what the options
say. Inside a git work tree, '/.ama/' is added to the .gitignore of DIR
unless git ignores .ama/ already (docs/git-integration.md). With --remote
or --endpoint naming an S3 remote, ama checks once that the server honours
conditional writes and keeps the answer in the config; it warns if not
(commit then refuses that remote, see docs/remote-layout.md).
"""

from __future__ import annotations

import argparse
import os

from .. import ui
from ..config import LINK_MODES
from ..errors import Corrupt
from ..pointer import POINTER_FILE, read_pointer
from ..refs import Head, check_class, read_head, write_head
from ..remotes import default_store_url, normalize_url, probe_remote
from ..repo import init_repo


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", nargs="?", default=".", help="work tree to initialise (default: .)")
    p.add_argument("--class", dest="cls", metavar="NAME", help="asset class (default: the directory's name)")
    p.add_argument("--remote", metavar="URL", help="remote URL: a directory or s3://bucket/prefix")
    p.add_argument("--endpoint", help="S3 endpoint URL (for S3-compatible services)")
    p.add_argument("--linkmode", choices=LINK_MODES, help="how contents enter the store (default: auto)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only warnings and errors")


def run(args: argparse.Namespace) -> int:
    root = os.path.abspath(args.directory)
    cls = check_class(args.cls or os.path.basename(root) or "data")
    repo, existed = init_repo(args.directory, args.linkmode)
    config = repo.config
    if args.remote or not config.get("remote.origin.url"):
        config.set("remote.origin.url", normalize_url(args.remote or default_store_url()))
    if args.endpoint:
        config.set("remote.origin.endpoint", args.endpoint)
    if args.remote or args.endpoint:
        # A changed remote is another server: probe it afresh.
        for key in ("writes", "ifmatch"):
            config.unset(f"remote.origin.{key}")
    config.save()
    try:
        head = read_head(repo)
    except Corrupt:
        if not args.cls:
            raise
        # The way out the error names: the version comes back from the
        # pointer file (which every commit and checkout writes), else with
        # the next checkout.
        head = Head(cls=cls)
        try:
            pointer = read_pointer(repo)
        except Corrupt:
            pointer = None
        if pointer is not None and pointer.asset.split("/")[0] == cls:
            head = Head(cls, int(pointer.asset.split("/")[1]), pointer.version, pointer.commit)
            ui.warn(f".ama/HEAD was damaged: rewritten from {POINTER_FILE} ({pointer.name})")
        else:
            ui.warn(f".ama/HEAD was damaged: rewritten for class {cls}; 'ama checkout {cls}/SEQ/N' sets the version")
        write_head(repo, head)
    if not existed or args.cls:
        if head.seq is not None and args.cls and args.cls != head.cls:
            ui.warn(f"asset class stays {head.cls}: this work tree already has commits")
        else:
            head.cls = cls
            write_head(repo, head)
    verb = "Reinitialized existing" if existed else "Initialized empty"
    if not args.quiet:
        ui.info(f"{verb} ama repository in {repo.ama_dir} (class {read_head(repo).cls}, remote {config.get('remote.origin.url')})")
    if args.remote or args.endpoint:
        probe_remote(repo, "origin")
    from ..gitrepo import note_git_init

    note_git_init(repo, args.quiet)
    return 0

"""Copy a version of an asset from a remote into a new work tree.

NAME is CLASS/SEQ (latest version), CLASS/SEQ/N or CLASS/ALIAS[/N]. DIR
defaults to CLASS-SEQ. --remote defaults to the per-user embedded store
($AMA_HOME/store). Every byte is verified against its id. If the clone fails,
the directory it created is removed.
"""

from __future__ import annotations

import argparse
import os
import shutil

from .. import ui
from ..errors import UsageError
from ..refs import Head, update_ref, write_head
from ..remotes import default_store_url
from ..repo import init_repo
from ..version_names import resolve


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="CLASS/SEQ[/N] or CLASS/ALIAS[/N]")
    p.add_argument("directory", nargs="?", metavar="DIR")
    p.add_argument("--remote", metavar="URL", help="remote URL (default: the per-user store)")
    p.add_argument("--endpoint", help="S3 endpoint URL (for S3-compatible services)")
    p.add_argument("--region", help="S3 region")
    p.add_argument("--profile", help="AWS profile for the S3 credentials")
    p.add_argument("--linkmode", choices=("auto", "reflink", "hardlink", "copy"))
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    from ..remotes import open_repo_remote
    from ..tracking import checkout_version

    url = args.remote or default_store_url()
    cls = args.name.split("/", 1)[0]
    directory = args.directory
    created = False
    try:
        if directory is None:
            parts = args.name.strip("/").split("/")
            directory = "-".join(parts[:2])
        if os.path.exists(directory) and os.listdir(directory):
            raise UsageError(f"destination '{directory}' already exists and is not empty")
        created = not os.path.exists(directory)
        repo, _ = init_repo(directory, args.linkmode)
        repo.config.set("remote.origin.url", url)
        for option in ("endpoint", "region", "profile"):
            if getattr(args, option):
                repo.config.set(f"remote.origin.{option}", getattr(args, option))
        repo.config.save()
        write_head(repo, Head(cls=cls))
        remote = open_repo_remote(repo)
        target = resolve(repo, args.name, remote)
        written, _ = checkout_version(repo, remote, target, force=False, jobs=args.jobs)
        latest = resolve(repo, f"{target.cls}/{target.seq}", remote)
        update_ref(repo, f"assets/{target.cls}/{target.seq}", latest.commit, reason=f"clone: {args.name}")
    except BaseException:
        if created and directory and os.path.isdir(directory):
            shutil.rmtree(directory, ignore_errors=True)
        elif directory and os.path.isdir(os.path.join(directory, ".ama")) and not created:
            shutil.rmtree(os.path.join(directory, ".ama"), ignore_errors=True)
        raise
    if not args.quiet:
        ui.info(f"cloned {target.name} into {directory}: {written} file(s)")
    return 0

"""Copy a version of an asset from a remote into a new work tree.

NAME is CLASS/SEQ (latest version), CLASS/SEQ/N or CLASS/ALIAS[/N]. DIR
defaults to CLASS-SEQ and must not exist or be empty. --remote defaults to
the per-user embedded store ($AMA_HOME/store); a directory remote is recorded
as an absolute path. Every byte is verified against its id. If the clone
fails, what it created is removed and nothing else: a directory it made
goes, an empty directory it was given is emptied again. A clone that was
killed leaves a marker (.ama/CLONING); running the same clone again
finishes it.
With --include/--exclude the work tree is sparse ("ama sparse"): only
the matching files are fetched and materialised; the others stay in the
index, not materialised.
"""

from __future__ import annotations

import argparse
import os
import shutil

from .. import ui
from ..errors import UsageError
from ..fsutil import atomic_write, is_temp_name
from ..refs import Head, update_ref, write_head
from ..remotes import default_store_url, normalize_url
from ..repo import AMA_DIR, init_repo
from ..version_names import resolve

MARKER = "CLONING"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="CLASS/SEQ[/N] or CLASS/ALIAS[/N]")
    p.add_argument("directory", nargs="?", metavar="DIR")
    p.add_argument("--remote", metavar="URL", help="remote URL (default: the per-user store)")
    p.add_argument("--endpoint", help="S3 endpoint URL (for S3-compatible services)")
    p.add_argument("--region", help="S3 region")
    p.add_argument("--profile", help="AWS profile for the S3 credentials")
    p.add_argument("--linkmode", choices=("auto", "reflink", "hardlink", "copy"))
    p.add_argument("--include", action="append", default=[], metavar="PATTERN",
                   help="materialise only the files matching PATTERN (gitignore-style; repeatable): a sparse work tree")
    p.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                   help="do not materialise the files matching PATTERN (repeatable)")
    p.add_argument("-j", "--jobs", type=int, default=8, help="parallel downloads (default: 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def run(args: argparse.Namespace) -> int:
    from ..remotes import open_repo_remote
    from ..tracking import checkout_version

    url = normalize_url(args.remote or default_store_url())
    cls = args.name.split("/", 1)[0]
    directory = args.directory or "-".join(args.name.strip("/").split("/")[:2])
    root = os.path.abspath(directory)
    marker_text = f"{args.name}\n{url}\n"
    top_created = _check_destination(directory, root, marker_text)
    was_empty = os.path.isdir(root) and not os.listdir(root)
    try:
        os.makedirs(os.path.join(root, AMA_DIR), exist_ok=True)
        atomic_write(os.path.join(root, AMA_DIR, MARKER), marker_text.encode())
        repo, _ = init_repo(root, args.linkmode)
        repo.config.set("remote.origin.url", url)
        for option in ("endpoint", "region", "profile"):
            if getattr(args, option):
                repo.config.set(f"remote.origin.{option}", getattr(args, option))
        repo.config.save()
        write_head(repo, Head(cls=cls))
        from ..sparse import patterns_from, save

        # (a rerun that finishes a killed clone takes this run's set)
        save(repo, patterns_from(args.include, args.exclude) if args.include or args.exclude else None)
        remote = open_repo_remote(repo)
        target = resolve(repo, args.name, remote)
        written, _ = checkout_version(repo, remote, target, force=False, jobs=args.jobs)
        latest = resolve(repo, f"{target.cls}/{target.seq}", remote)
        update_ref(repo, f"assets/{target.cls}/{target.seq}", latest.commit, reason=f"clone: {args.name}")
        os.unlink(repo.path(MARKER))
    except BaseException:
        _remove_created(root, top_created, was_empty)
        raise
    if not args.quiet:
        ui.info(f"cloned {target.name} into {directory}: {written} file(s)")
    return 0


def _check_destination(directory: str, root: str, marker_text: str) -> str | None:
    """Refuse a destination that holds anything but an interrupted run of
    this same clone; return the topmost directory this run will create."""
    if os.path.lexists(root) and not os.path.isdir(root):
        raise UsageError(f"destination '{directory}' already exists and is not a directory")
    if os.path.isdir(root):
        entries = os.listdir(root)
        if entries and not _interrupted_clone(root, entries, marker_text):
            raise UsageError(f"destination '{directory}' already exists and is not empty")
        return None
    top = root
    while not os.path.exists(os.path.dirname(top)):
        top = os.path.dirname(top)
    return top


def _interrupted_clone(root: str, entries: list[str], marker_text: str) -> bool:
    """Whether ``root`` is what a killed run of this clone left behind."""
    if AMA_DIR not in entries:
        return False
    ama = os.path.join(root, AMA_DIR)
    try:
        with open(os.path.join(ama, MARKER)) as f:
            return f.read() == marker_text
    except FileNotFoundError:
        # Killed between creating .ama/ and writing the marker (perhaps
        # with the marker's temp file written but not yet renamed).
        return entries == [AMA_DIR] and all(is_temp_name(name) for name in os.listdir(ama))
    except (OSError, UnicodeDecodeError):
        return False


def _remove_created(root: str, top_created: str | None, was_empty: bool) -> None:
    """Undo a failed clone: only what this run created."""
    if top_created is not None:
        shutil.rmtree(top_created, ignore_errors=True)
    elif was_empty:
        for name in os.listdir(root):
            path = os.path.join(root, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)

"""Hash files, store them in the object store by link, and stage them.

Directories are added recursively, and the paths skipped as ignored are
counted, with the rules that matched them. As in git, the paths' tracked files that
are gone from the work tree are staged as deletions (so a rename is staged
by adding both names, or the directory holding them); -A adds everything:
new, modified, deleted and renamed files in the whole work tree, or under
the PATHs given. Ignored files (.amaignore and, inside a
git repository, git's ignore rules; see 'ama check-ignore') are skipped, and
named explicitly they are refused unless --force; symbolic links and
special files found inside directories are skipped with a warning. If any
named path cannot be added, nothing is staged.

An s3://, http:// or https:// URL is recorded as a reference: the bytes stay
at their source and the entry pins them (version id, ETag, size, checksums;
docs/references.md). An s3:// prefix adds every object below it. --hash also
reads the bytes once for their BLAKE3 id; --copy fetches them into the store
and the work tree as an ordinary file instead.
"""

from __future__ import annotations

import argparse

from .. import ui
from ..errors import UsageError
from ..ignore import BUILT_IN, Ignorer
from ..repo import Repo
from ..sparse import widen
from ..staging import expand, stage, unstage


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to add")
    p.add_argument("-A", "--all", action="store_true",
                   help="stage additions, modifications, deletions and renames in the whole work tree (or under PATHs)")
    p.add_argument("-f", "--force", action="store_true", help="add files even if they are ignored")
    p.add_argument("-j", "--jobs", type=int, help="parallel hashing threads (default: 1 for files averaging under 64 KiB, "
                        "else 2 per core, up to 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.add_argument("--to", metavar="PATH", help="with one URL: the work-tree path (a directory for a prefix)")
    p.add_argument("--hash", action="store_true", help="with URLs: read the bytes once to record their BLAKE3 id")
    p.add_argument("--copy", action="store_true", help="with URLs: copy the bytes in as ordinary files")


def _ignored_summary(ignorer: Ignorer, ignored: list[str]) -> str | None:
    """How many paths were skipped as ignored, and by which rules (the
    most used first): an ignore rule never silently empties an add. The
    built-in rules (ignore files themselves) are not worth a line."""
    by_rule: dict[str, list[str]] = {}
    for path in ignored:
        match = ignorer.match(path.rstrip("/"), path.endswith("/"))
        if match is None or match.source != BUILT_IN:
            by_rule.setdefault(str(match) if match else "an ignore rule", []).append(path)
    if not by_rule:
        return None
    ignored = [p for paths in by_rule.values() for p in paths]
    rules = sorted(by_rule.items(), key=lambda item: -len(item[1]))
    shown = "; ".join(f"{len(paths)} by {rule} (e.g. {ui.quote_path(paths[0])})" for rule, paths in rules[:3])
    more = f"; {len(rules) - 3} more rule(s)" if len(rules) > 3 else ""
    return (f"skipped {len(ignored)} ignored path(s): {shown}{more} "
            f"('ama check-ignore -v PATH' explains; 'ama add -f PATH' adds anyway)")


def run(args: argparse.Namespace) -> int:
    repo = Repo.discover()
    urls = [p for p in args.paths if p.startswith(URL_SCHEMES)]
    if urls:
        if len(urls) != len(args.paths) or args.all:
            raise UsageError("give either URLs or work-tree paths, not both")
        return _add_urls(repo, args)
    if args.to or args.hash or args.copy:
        raise UsageError("--to, --hash and --copy are for URLs (s3://, http://, https://)")
    if not args.paths and not args.all:
        raise UsageError("name the files or directories to add, or use -A to add everything")
    ignorer = Ignorer(repo.root)
    found = expand(repo, args.paths or [repo.root], force=args.force, ignorer=ignorer)
    for rel, why in found.skipped:
        ui.warn(f"skipped {ui.quote_path(rel)}: {why}")
    if found.outside and not args.quiet:
        shown = ", ".join(ui.quote_path(p) for p in found.outside[:3])
        more = f" and {len(found.outside) - 3} more" if len(found.outside) > 3 else ""
        ui.info(f"skipped {len(found.outside)} path(s) outside the directories ama tracks ({shown}{more}): this root "
                f"is also git's work tree, so they are taken as code; 'ama add DIR' tracks a directory, "
                f"'ama add FILE' adds a file")
    for rel, match in found.git_ignored if not args.quiet else ():
        ui.info(f"{ui.quote_path(rel)}/ is ignored by git ({match}), which keeps it out of git; ama versions it: "
                f"git's rules do not apply in directories ama tracks (.amaignore does)")
    summary = _ignored_summary(ignorer, found.ignored) if found.ignored and not args.quiet else None
    if summary:
        ui.info(summary)
    with repo.locked_index() as (lock, index):
        with ui.Progress("Adding", total=len(found.files)) as bar:
            result = stage(repo, index, found.files, progress=bar.advance, jobs=args.jobs)
        removed = unstage(index, found.removed)
        if result.touched or removed:
            index.write(lock)
    widen(repo, found.files)
    used = next((m for m in ("copy", "hardlink", "reflink") if m in result.modes), None)
    if used and repo.config.get("core.linkused") != used:
        repo.config.set("core.linkused", used)
        repo.config.save()
    if not args.quiet:
        modes = ", ".join(f"{n} {m}" for m, n in sorted(result.modes.items()))
        summary = f"added {len(result.added)} file(s), {ui.human_size(result.bytes)}"
        if result.unchanged:
            summary += f"; {len(result.unchanged)} unchanged"
        if removed:
            summary += f"; {len(removed)} deletion(s) staged"
        if modes:
            summary += f" (stored: {modes})"
        ui.info(summary)
    return 0


URL_SCHEMES = ("s3://", "http://", "https://")


def _add_urls(repo: Repo, args: argparse.Namespace) -> int:
    from ..references import stage_urls

    with repo.locked_index() as (lock, index):
        found = stage_urls(repo, index, args.paths, args.to, args.hash, args.copy)
        index.write(lock)
    if args.copy:
        # Copied in as files, they are materialised: the sparse set takes
        # them (a reference stays not materialised wherever it is).
        widen(repo, [path for path, _ in found])
    unversioned = sum(1 for _, ref in found if not ref.versioned)
    if unversioned and not args.copy:
        ui.warn(
            f"{unversioned} source(s) are not versioned: a change there can be detected, "
            "but the recorded bytes cannot be fetched again (commit --push-refs keeps a copy)"
        )
    if not args.quiet:
        size = ui.human_size(sum(ref.size for _, ref in found))
        what = "file(s) copied" if args.copy else "reference(s) recorded"
        ui.info(f"added {len(found)} {what}, {size}")
    return 0

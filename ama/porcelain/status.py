"""Show what is staged, what changed since it was staged, and what is untracked.

On a terminal the view is for people. --porcelain gives a stable format for
scripts (docs/status-format.md); -z ends records with NUL instead of newline.
A pending (interrupted) commit is always shown.

Untracked files (-u, default from config status.showUntracked): "normal"
collapses a directory holding nothing tracked to "dir/", and where the
work-tree root is also the top of a git work tree lists only files inside
the directories ama tracks (the rest is the project's code, git's
business; name a path, or use -u all, to see it); "all" lists every
untracked file; "no" none (docs/git-integration.md).
"""

from __future__ import annotations

from .. import ui
from ..errors import AmaError, NotARepository, UsageError
from ..ignore import Ignorer
from ..refs import read_head
from ..repo import Repo
from ..statcheck import DAMAGED, DELETED, MODIFIED, RENAMED, TYPECHANGE, UNREADABLE, apply_refresh, check
from ..worktree import collapse_untracked, staged_changes, staged_renames, tracked_dirs

TYPE_CHECKING = False  # argparse only for annotations: the fast path never imports it
if TYPE_CHECKING:
    import argparse

WORKTREE_CODE = {MODIFIED: "M", DELETED: "D", RENAMED: "R", TYPECHANGE: "T", DAMAGED: "X", UNREADABLE: "U"}
WORKTREE_WORD = {
    MODIFIED: "modified",
    DELETED: "deleted",
    RENAMED: "renamed",
    TYPECHANGE: "typechange",
    UNREADABLE: "unreadable",
    DAMAGED: "modified",
}


# One hint per state present, each true for that state: what stages it.
UNSTAGED_HINTS = [
    (MODIFIED, "use 'ama add <path>...' to stage the new content, or 'ama commit -a' to commit it"),
    (DAMAGED, "use 'ama add <path>...' to stage the edited content; the added bytes are gone from this machine"),
    (DELETED, "use 'ama add <path>...' or 'ama rm --cached <path>...' to stage the deletion"),
    (RENAMED, "use 'ama add <old> <new>' or 'ama add -A' to stage the rename"),
    (TYPECHANGE, "ama stores regular files only: 'ama rm --cached <path>...' stops tracking it"),
    (UNREADABLE, "make it readable to let ama decide, or 'ama rm --cached <path>...' to stop tracking it"),
]


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="limit the report to these paths")
    p.add_argument("--porcelain", action="store_true", help="stable machine-readable output")
    p.add_argument("-z", action="store_true", help="NUL-terminated records (implies --porcelain)")
    p.add_argument(
        "-u",
        "--untracked-files",
        choices=UNTRACKED_MODES,
        help="untracked files: none; directories collapsed, and in a root shared with git only inside "
             "directories ama tracks (normal, the default; config status.showUntracked); or every file, anywhere",
    )
    p.add_argument("--no-renames", action="store_true", help="show a staged rename as a deletion and a new file")
    p.add_argument(
        "--refs",
        action="store_true",
        help="also ask the source of every reference whether it still holds the recorded bytes",
    )


def _pointer_hint() -> str | None:
    """Outside an ama repository, a pointer file (a git clone of a project
    whose data ama keeps): say how to get the version it names."""
    import os

    from ..pointer import POINTER_FILE, read_pointer_file

    here = os.getcwd()
    while True:
        pointer = read_pointer_file(os.path.join(here, POINTER_FILE))
        if pointer is not None:
            where = "" if here == os.getcwd() else f"in {here}, "
            return (f"not an ama repository, but {os.path.relpath(os.path.join(here, POINTER_FILE))} names "
                    f"{pointer.name}: to get its data run {where}'ama init && ama checkout {pointer.name}' "
                    f"(ama init --remote URL if it is not in your default store)")
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def read_pending(repo: Repo):
    """The interrupted commit, ``UNREADABLE`` if PENDING cannot be parsed,
    or None."""
    import os

    if not os.path.exists(repo.pending_path):
        return None
    from ..errors import Corrupt
    from ..pending import Pending

    try:
        return Pending.load(repo)
    except Corrupt:
        return UNREADABLE_PENDING


UNREADABLE_PENDING = "unreadable"


def run(args: argparse.Namespace) -> int:
    # The repository, index and stat check ama/cli.py began for a status of the whole tree.
    repo, index, started = getattr(args, "_started", None) or (None, None, None)
    if repo is None:
        try:
            repo = Repo.discover()
        except NotARepository as e:
            raise NotARepository(_pointer_hint() or str(e)) from None
        index = repo.load_index()
    paths = [repo.relpath(p) for p in args.paths] or None
    ignorer = Ignorer(repo.root)
    report = check(repo, index, paths=paths, ignorer=ignorer, started=started)
    apply_refresh(repo, report)
    head = read_head(repo)
    staged = staged_changes(repo, index, head.commit)
    if paths is not None:
        staged = [(c, p) for c, p in staged if any(p == q or p.startswith(q.rstrip("/") + "/") or not q for q in paths)]
    renames = {} if args.no_renames else staged_renames(repo, index, head.commit, staged)
    if renames:
        olds = set(renames.values())
        staged = [("R", p) if p in renames else (c, p) for c, p in staged if p not in olds]
    untracked: list[str] = []
    outside: set[str] = set()  # top-level entries not listed in a root shared with git
    mode = args.untracked_files or _untracked_mode(repo)
    if mode != "no":
        untracked = report.untracked
        if mode == "normal" and untracked:
            dirs = tracked_dirs(index.paths())
            if paths is None and ignorer.shares_git_root:
                # The root is git's too: what lies outside ama's directories is code.
                inside = [p for p in untracked if "/" in p and p.partition("/")[0] in dirs]
                outside = {p.partition("/")[0] for p in untracked} - dirs
                untracked = inside
            untracked = collapse_untracked(untracked, dirs)
    pending = read_pending(repo)
    refs = _reference_states(repo, index, paths) if args.refs else {}
    if args.porcelain or args.z:
        _porcelain(staged, renames, report.changes, untracked, args.z, pending, refs)
    else:
        originals = _remote_has_originals(repo, index, report.changes)
        _human(repo, head, staged, renames, report.changes, untracked, pending, originals, refs, len(outside),
               _sparse_note(repo, index))
        if not args.refs and (count := len(index.reference_paths())):
            ui.info(f"{count} path(s) are references to bytes that stay at their source ('ama status --refs' checks them)")
    return 0


UNTRACKED_MODES = ("no", "normal", "all")
SPARSE_FILE = "sparse"  # ama.sparse.FILE, not imported for it (tests/test_sparse.py checks they agree)


def _sparse_note(repo: Repo, index) -> str | None:
    """How much of the index a sparse work tree materialises (as git says
    "You are in a sparse checkout with N% of tracked files present")."""
    import os

    if not index or not os.path.exists(repo.path(SPARSE_FILE)):
        return None
    total = len(index)
    present = total - len(index.skip_worktree_paths())
    return (f"You are in a sparse work tree: {present:,} of {total:,} tracked files are materialised "
            "('ama sparse list' shows the set)")


def _untracked_mode(repo: Repo) -> str:
    """status.showUntracked, else normal."""
    mode = repo.config.get("status.showuntracked") or "normal"
    if mode not in UNTRACKED_MODES:
        raise UsageError(f"status.showUntracked is '{mode}' in .ama/config: use no, normal or all")
    return mode


REF_CODE = {"intact": "@", "changed": "C", "missing": "!"}


def _reference_states(repo: Repo, index, paths) -> dict[str, tuple[str, str]]:
    """path -> (state, detail) for every reference (under ``paths``): its
    source asked with a HEAD request, no bytes read (docs/references.md)."""
    from ..references import check_all

    refs = {p: index.digest(p) for p in index.reference_paths()}
    if paths is not None:
        refs = {p: d for p, d in refs.items() if any(p == q or p.startswith(q.rstrip("/") + "/") or not q for q in paths)}
    problems = check_all(repo.store, None, refs)
    states = {}
    for path in refs:
        problem = problems.get(path)
        state = "intact" if problem is None else "missing" if problem == "missing" else "changed"
        states[path] = (state, problem or "")
    return states


def _remote_has_originals(repo: Repo, index, changes) -> dict[str, bool | None]:
    """For each damaged path: whether the remote still has the original
    content (None if it cannot be asked). Only asked when there is damage."""
    damaged = {c.path: index.digest(c.path) for c in changes if c.state == DAMAGED}
    if not damaged:
        return {}
    try:
        from ..remotes import open_repo_remote

        present = open_repo_remote(repo).has_objects(set(damaged.values()))
    except AmaError:
        return dict.fromkeys(damaged)
    return {path: digest in present for path, digest in damaged.items()}


def _porcelain(staged, renames, changes, untracked, z: bool, pending, refs) -> None:
    end = "\0" if z else "\n"
    quote = (lambda p: p) if z else ui.quote_path
    worktree = {c.path: c for c in changes}
    staged_codes = dict((p, c) for c, p in staged)
    records = []
    if pending:
        if pending is UNREADABLE_PENDING:
            records.append("## pending ? -")
        else:
            records.append(f"## pending {pending.asset or pending.cls} {pending.version or '-'}")
    for path in sorted(set(staged_codes) | set(worktree) | set(refs), key=lambda p: renames.get(p, p)):
        x = staged_codes.get(path, " ")
        change = worktree.get(path)
        y = WORKTREE_CODE[change.state] if change else REF_CODE[refs[path][0]] if path in refs else " "
        if x == "R" and not (change and change.state == RENAMED):
            old = renames[path]
            records.append(f"{x}{y} {path}\0{old}" if z else f"{x}{y} {quote(old)} -> {quote(path)}")
        elif change and change.state == RENAMED:
            if z:
                records.append(f"{x}{y} {change.new_path}\0{path}")
            else:
                records.append(f"{x}{y} {quote(path)} -> {quote(change.new_path)}")
        else:
            records.append(f"{x}{y} {quote(path)}")
    records.extend(f"?? {quote(p)}" for p in untracked)
    if records:
        ui.out(end.join(records), end=end)


def _human(repo: Repo, head, staged, renames, changes, untracked, pending, originals, refs, outside: int,
           sparse: str | None = None) -> None:
    lines = []
    if head.asset:
        lines.append(f"On asset {head.asset}" + (f", version {head.version}" if head.version else ""))
    else:
        lines.append(f"On asset class {head.cls} (no commits yet)")
    if sparse:
        lines.append(sparse)
    if pending:
        if pending is UNREADABLE_PENDING:
            lines.append(ui.styled("A commit is pending but .ama/PENDING cannot be read.", "red"))
        else:
            lines.append(ui.styled(f"A commit of {pending.describe()} was interrupted.", "bold red"))
            lines.append(f"  (run 'ama commit' to finish it: upload what the remote lacks and publish {pending.describe()})")
            lines.append("  ('ama commit --abort' cancels it: releases the reservation, keeps the staged files)")
            lines.append(f"  ('ama commit --abandon' releases it and commits the staged files as a new {pending.cls} "
                         "asset with no parent)")
    if staged:
        lines += ["", "Changes to be committed:"]
        words = {"A": "new file", "M": "modified", "D": "deleted", "R": "renamed"}
        for c, p in staged:
            shown = ui.quote_path(repo.display(p))
            if c == "R":
                shown = f"{ui.quote_path(repo.display(renames[p]))} -> {shown}"
            lines.append(ui.styled(f"\t{words[c]}:   {shown}", "green"))
    if changes:
        lines += ["", "Changes not staged for commit:"]
        lines += [f"  ({hint})" for state, hint in UNSTAGED_HINTS if any(c.state == state for c in changes)]
        for c in changes:
            shown = ui.quote_path(repo.display(c.path))
            word = WORKTREE_WORD[c.state]
            if c.state == RENAMED:
                text = f"\t{word}:   {shown} -> {ui.quote_path(repo.display(c.new_path))}"
            elif c.state == DAMAGED:
                remote = {True: "the remote has the original", False: "the remote does NOT have the original",
                          None: "the remote could not be asked for the original"}[originals.get(c.path)]
                text = f"\t{word}:   {shown}  (edited in place: its hardlinked cache object is damaged too; {remote})"
            else:
                text = f"\t{word}:   {shown}"
            lines.append(ui.styled(text, "red"))
    if refs:
        bad = {p: detail for p, (state, detail) in refs.items() if state != "intact"}
        lines += ["", f"References: {len(refs)}, {len(refs) - len(bad)} intact at their source"]
        if bad:
            lines.append("  (use 'ama refresh <path>...' to record what the source holds now)")
            lines += [ui.styled(f"\t{ui.quote_path(repo.display(p))}: {d}", "red") for p, d in sorted(bad.items())]
    if untracked:
        lines += ["", "Untracked files:", "  (use 'ama add <path>...' to stage them)"]
        lines += [ui.styled(f"\t{ui.quote_path(repo.display(p.rstrip('/')) + ('/' if p.endswith('/') else ''))}", "red") for p in untracked]
    if outside:
        lines += ["", f"Not listed: {outside} untracked path(s) outside the directories ama tracks (this root is "
                      f"also git's work tree; 'ama add DIR' tracks a directory, 'ama status -u all' lists them)"]
    if not (staged or changes or untracked):
        lines += ["", "nothing to commit, working tree clean" if head.commit else "nothing staged, working tree clean"]
    mode = repo.config.linkmode
    used = repo.config.get("core.linkused")
    lines += ["", f"Link mode: {mode}" + (f" (last used: {used})" if used else "")]
    ui.print_rich("\n".join(lines))

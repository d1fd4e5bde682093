"""git hooks that keep a git repository and its ama data in step.

``ama hooks install`` writes four small POSIX sh scripts into the git
repository's hooks directory (``core.hooksPath`` if set, else
``$GIT_COMMON_DIR/hooks``):

- ``pre-commit`` refuses a git commit while tracked data is modified,
  deleted or renamed since ``ama add``, or an ama commit is pending
  (``ama stat-check --pending``), or while the pointer file ``.ama-asset``
  differs from the one the git commit records (or is not in git and not
  ignored by it): the commit would pin another data version than the work
  tree has. ``hooks.precommit = warn`` makes that last check warn only;
- ``pre-push`` runs ``ama push-staged``, so git never points at data the
  remote lacks;
- ``post-checkout`` (branch checkouts only) and ``post-merge`` run
  ``ama checkout``, which materialises the version named by the pointer file
  ``.ama-asset``, unless the work tree already has that version; never
  during a rebase.

Each script records the ama work trees it serves, as paths relative to the
top of the git work tree (where git runs hooks), and the absolute path of
the ``ama`` executable that installed it (falling back to ``ama`` on PATH).
Installing from a second ama work tree of the same git repository adds it
to the list; uninstalling removes it, and the scripts go when the list is
empty. A hook that was there before is never overwritten: it is renamed to
``<hook>.ama-chained``, runs first with the same arguments and input, and
its exit code is respected; uninstalling renames it back (same bytes, same
mode). The format is described in docs/git-integration.md.
"""

from __future__ import annotations

import os
import shutil
import stat as statmod
import sys
from dataclasses import dataclass, field

from .errors import Conflict, UsageError
from .fsutil import atomic_write
from .repo import Repo

HOOKS = ("pre-commit", "pre-push", "post-checkout", "post-merge")
CHAINED = ".ama-chained"
VERSION = 2
MARKER = "# ama-hook "  # followed by the version number
WORKTREE_LINE = "# ama-worktree: "
AMA_LINE = "ama_exe="

INSTALLED = "installed"
OLD = "installed (older version)"
ABSENT = "not installed"
FOREIGN = "not ama's"


@dataclass
class GitPlace:
    """Where the hooks go for one ama work tree."""

    git_root: str  # top of the git work tree
    hooks_dir: str
    worktree: str  # the ama work tree, relative to git_root ("." for the top)


@dataclass
class HookState:
    name: str
    path: str
    state: str  # INSTALLED, OLD, ABSENT or FOREIGN
    worktrees: list[str] = field(default_factory=list)
    chained: bool = False  # a <hook>.ama-chained exists
    ama: str = ""  # the ama executable an installed hook runs ("" means from PATH)

    @property
    def ours(self) -> bool:
        return self.state in (INSTALLED, OLD)


def locate(repo: Repo) -> GitPlace:
    """The git repository around ``repo``, its hooks directory, and the
    work tree's path inside it."""
    from .gitrepo import open_git

    git = open_git(repo.root)
    if git is None:
        raise UsageError(f"{repo.root} is not inside a git work tree: there is nowhere to install hooks")
    worktree = os.path.relpath(repo.root, git.path).replace(os.sep, "/")
    if "\n" in worktree:
        raise UsageError(f"{worktree!r}: ama's hooks cannot record a work-tree path with a newline")
    return GitPlace(git.path, hooks_dir(git), worktree)


def hooks_dir(git) -> str:
    """``core.hooksPath`` (relative to the top of the work tree, where git
    runs hooks), else the hooks directory of the common git directory."""
    try:
        configured = git.get_config_stack().get((b"core",), b"hooksPath")
    except KeyError:
        return os.path.join(git.commondir(), "hooks")
    return os.path.join(git.path, os.path.expanduser(os.fsdecode(configured)))


def ama_command() -> str:
    """The absolute path of the ama executable running now (or the one on
    PATH); empty if neither is known, and the hooks then look on PATH."""
    candidate = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if os.path.basename(candidate).startswith("ama") and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("ama")
    return os.path.abspath(found) if found else ""


def inspect(place: GitPlace) -> list[HookState]:
    return [_state(place, name) for name in HOOKS]


def _state(place: GitPlace, name: str) -> HookState:
    path = os.path.join(place.hooks_dir, name)
    chained = os.path.lexists(path + CHAINED)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return HookState(name, path, ABSENT, chained=chained)
    if not statmod.S_ISREG(st.st_mode):
        return HookState(name, path, FOREIGN, chained=chained)
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    lines = text.splitlines()
    version = next((line[len(MARKER):].split()[0] for line in lines[1:3] if line.startswith(MARKER)), None)
    if version is None:
        return HookState(name, path, FOREIGN, chained=chained)
    worktrees = [line[len(WORKTREE_LINE):] for line in lines if line.startswith(WORKTREE_LINE)]
    ama = next((_unquote(line[len(AMA_LINE):]) for line in lines if line.startswith(AMA_LINE)), "")
    state = INSTALLED if version == str(VERSION) else OLD
    return HookState(name, path, state, worktrees, chained, ama)


def install(place: GitPlace, force: bool = False, ama: str | None = None) -> list[tuple[str, str]]:
    """Install or update the hooks for ``place.worktree``; return what was
    done to each hook. Nothing is changed if any hook cannot be installed."""
    ama = ama_command() if ama is None else ama
    states = inspect(place)
    for s in states:
        if s.state == FOREIGN and s.chained:
            raise Conflict(
                f"{s.path} is not ama's and {s.name}{CHAINED} already exists: "
                f"move one of them away, then run 'ama hooks install' again"
            )
        if s.state == FOREIGN and not statmod.S_ISREG(os.lstat(s.path).st_mode) and not os.path.islink(s.path):
            raise Conflict(f"{s.path} is not a file: move it away, then run 'ama hooks install' again")
    os.makedirs(place.hooks_dir, exist_ok=True)
    done = []
    for s in states:
        registered = place.worktree in s.worktrees
        if s.ours and registered and not force:
            done.append((s.name, "already installed" + ("" if s.state == INSTALLED else "; --force updates it")))
            continue
        worktrees = s.worktrees + ([] if registered else [place.worktree])
        what = "installed"
        if s.state == FOREIGN:
            os.rename(s.path, s.path + CHAINED)
            what = f"installed; your hook is kept as {s.name}{CHAINED} and runs first"
        elif s.ours:
            what = "reinstalled" if registered else f"now also serves {place.worktree}"
        _write(s.path, render(s.name, worktrees, ama))
        done.append((s.name, what))
    return done


def uninstall(place: GitPlace) -> list[tuple[str, str]]:
    """Stop serving ``place.worktree``; remove the hooks no work tree needs
    any more and put back the hooks they chained."""
    done = []
    for s in inspect(place):
        if not s.ours:
            done.append((s.name, "not installed" if s.state == ABSENT else "not ama's hook; left alone"))
            continue
        remaining = [w for w in s.worktrees if w != place.worktree]
        if remaining:
            if len(remaining) == len(s.worktrees):
                done.append((s.name, f"kept: it serves {', '.join(remaining)}, not this work tree"))
            else:
                _write(s.path, render(s.name, remaining, s.ama))
                done.append((s.name, f"kept for {', '.join(remaining)}"))
            continue
        os.unlink(s.path)
        if s.chained:
            os.rename(s.path + CHAINED, s.path)
            done.append((s.name, "removed; your earlier hook is back"))
        else:
            done.append((s.name, "removed"))
    return done


def _write(path: str, text: str) -> None:
    atomic_write(path, text.encode(), mode=0o755)
    os.chmod(path, 0o755)


def _quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def _unquote(s: str) -> str:
    s = s.strip()
    return s[1:-1].replace("'\\''", "'") if s.startswith("'") else s


# -- the scripts -----------------------------------------------------------

_HEAD = """\
#!/bin/sh
{marker}{version} ({name}): written by 'ama hooks install', removed by 'ama hooks uninstall'.
# A {name} hook that was here before is kept as {name}{chained} and runs first.
# ama runs in each work tree listed here, relative to the top of the git work tree:
{worktree_lines}
{ama_line}{ama}
worktrees={worktrees}

unset AMA_WORK_TREE
tab=$(printf '\\t')
case $0 in
    */*) chained="${{0%/*}}/{name}{chained}" ;;
    *) chained="./{name}{chained}" ;;
esac
chained_status=0
if [ -x "$chained" ]; then
    "$chained" "$@" || chained_status=$?
fi
"""

_FIND_AMA = """\
find_ama() {{
    [ -x "$ama_exe" ] && return 0
    found=$(command -v ama 2>/dev/null) && ama_exe=$found && return 0
    echo "ama {name}: the ama command is neither at ${{ama_exe:-(not recorded)}} nor on PATH; {advice}" >&2
    return 1
}}
"""

_LOOP = """\
status=0
set -f
old_ifs=$IFS
IFS='
'
for wt in $worktrees; do
    IFS=$old_ifs
    [ -d "$wt/.ama" ] || continue
    find_ama || {{ status=1; break; }}
    run_in "$wt" "$@" || {{ status=$?; {on_failure}; }}
done
IFS=$old_ifs
"""

_IN_REBASE = """\
git_dir=$(git rev-parse --git-dir 2>/dev/null) || git_dir=.git
if [ -d "$git_dir/rebase-merge" ] || [ -d "$git_dir/rebase-apply" ]; then
    exit "$chained_status"
fi
"""

_PRE_COMMIT = """\
check_pointer() {
    p=.ama-asset
    [ "$1" = . ] || p="$1/.ama-asset"
    [ -f "$p" ] || return 0
    # git's index here is what this commit records (GIT_INDEX_FILE with -a or PATHS).
    if git ls-files --error-unmatch -- "$p" >/dev/null 2>&1; then
        git diff --quiet -- "$p" && return 0
        why="differs from the one this git commit records (the data version moved since it was staged)"
    else
        git check-ignore -q -- "$p" && return 0
        why="is not in git, so this commit pins no data version"
    fi
    mode=$(cd "$1" && "$ama_exe" config hooks.precommit </dev/null 2>/dev/null)
    if [ "$mode" = warn ]; then
        echo "ama pre-commit: warning: $p $why; run 'git add $p' to pin it" >&2
        return 0
    fi
    echo "ama pre-commit: $p $why; run 'git add $p', then commit (hooks.precommit = warn only warns)" >&2
    return 1
}

run_in() {
    out=$(cd "$1" && "$ama_exe" stat-check --pending </dev/null)
    rc=$?
    case $rc in
        0) check_pointer "$1"; return ;;
        1|9) ;;
        *) echo "ama pre-commit: 'ama stat-check' failed in $1 (exit $rc, see above); git commit stopped" >&2
           return 1 ;;
    esac
    where=
    [ "$1" = . ] || where="$1/"
    first=$(printf '%s\\n' "$out" | head -n 1)
    state=${first%%"$tab"*}
    path=${first#*"$tab"}
    path=${path%%"$tab"*}
    more=$(printf '%s\\n' "$out" | wc -l)
    more=$((more - 1))
    and_more=
    [ "$more" -gt 0 ] && and_more=" (and $more more)"
    case $state in
        pending) echo "ama pre-commit: $where$path: an ama commit is pending; finish it with 'ama commit' in $1, then commit to git" >&2
                 return 1 ;;
        damaged) state="modified in place" ;;
    esac
    echo "ama pre-commit: $where$path: $state since 'ama add'$and_more; commit the data with ama first (see 'ama status' in $1), or use git commit --no-verify" >&2
    return 1
}
"""

_PRE_PUSH = """\
run_in() {
    (cd "$1" && "$ama_exe" push-staged </dev/null >/dev/null) && return 0
    echo "ama pre-push: the staged data of $1 could not be uploaded to its ama remote (see above); git push stopped" >&2
    return 1
}
"""

_CHECKOUT_POINTER = """\
run_in() {{
    [ -f "$1/.ama-asset" ] || return 0
    wanted=$(sed -n 's/^commit:[[:space:]]*//p' "$1/.ama-asset")
    have=$(cd "$1" && "$ama_exe" rev-parse --local HEAD </dev/null 2>/dev/null)
    [ -n "$wanted" ] && [ "$wanted" = "$have" ] && return 0
    (cd "$1" && "$ama_exe" checkout </dev/null) && return 0
    echo "ama {name}: the data in $1 is not the version named by $1/.ama-asset (see above); run 'ama checkout' there" >&2
    return 1
}}
"""

_ADVICE = {
    "pre-commit": "install ama, or commit with git commit --no-verify",
    "pre-push": "install ama, or push with git push --no-verify",
    "post-checkout": "the data was not switched; run 'ama checkout' in each ama work tree",
    "post-merge": "the data was not switched; run 'ama checkout' in each ama work tree",
}


def render(name: str, worktrees: list[str], ama: str) -> str:
    """The text of hook ``name`` serving ``worktrees`` with executable ``ama``."""
    head = _HEAD.format(
        marker=MARKER,
        version=VERSION,
        name=name,
        chained=CHAINED,
        worktree_lines="\n".join(WORKTREE_LINE + w for w in worktrees),
        ama_line=AMA_LINE,
        ama=_quote(ama),
        worktrees=_quote("\n".join(worktrees)),
    )
    pre = name.startswith("pre-")
    parts = [head]
    if pre:
        parts.append('[ "$chained_status" -eq 0 ] || exit "$chained_status"\n')
    if name == "post-checkout":
        parts.append('[ "$3" = 1 ] || exit "$chained_status"  # a file checkout, not a branch switch\n')
    if not pre:
        parts.append(_IN_REBASE)
    parts.append(_FIND_AMA.format(name=name, advice=_ADVICE[name]))
    if name == "pre-commit":
        parts.append(_PRE_COMMIT)
    elif name == "pre-push":
        parts.append(_PRE_PUSH)
    else:
        parts.append(_CHECKOUT_POINTER.format(name=name))
    parts.append(_LOOP.format(on_failure="break" if pre else ":"))
    if not pre:
        parts.append('[ "$chained_status" -eq 0 ] || exit "$chained_status"\n')
    parts.append('exit "$status"\n')
    return "\n".join(parts)

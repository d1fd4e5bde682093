"""The ``ama`` command: find the subcommand, import only its module, run it.

Each command is one module in ``ama/plumbing/`` or ``ama/porcelain/`` with
``configure(parser)`` and ``run(args) -> int``. Only the module of the
command being run is imported, so ``ama --version`` and ``ama status`` do not
pay for boto3, rich or dulwich. The commonest invocations (``FAST``) do not
even pay for argparse: they are looked up whole and run with the arguments
argparse would have built.
"""

from __future__ import annotations

import os
import sys

from . import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

# name -> (module, one-line help). Order is the order of `ama --help`.
PORCELAIN = {
    "init": ("ama.porcelain.init", "create a repository in a directory"),
    "add": ("ama.porcelain.add", "hash files, store them by link, and stage them"),
    "rm": ("ama.porcelain.rm", "unstage files (and delete them unless --cached)"),
    "mv": ("ama.porcelain.mv", "move or rename tracked files, in the work tree and the index"),
    "status": ("ama.porcelain.status", "show staged, changed and untracked files"),
    "commit": ("ama.porcelain.commit", "commit the staged files as the next version, on the remote"),
    "checkout": ("ama.porcelain.checkout", "make the work tree hold a version"),
    "switch": ("ama.porcelain.checkout", "same as checkout"),
    "sparse": ("ama.porcelain.sparse", "show or change which files are materialised (a sparse work tree)"),
    "restore": ("ama.porcelain.restore", "bring back deleted or damaged files from the index or a version"),
    "clone": ("ama.porcelain.clone", "copy a version from a remote into a new work tree"),
    "fetch": ("ama.porcelain.fetch", "download the latest version of the asset without checking it out"),
    "pull": ("ama.porcelain.pull", "fetch, then check out the latest version"),
    "log": ("ama.porcelain.log", "show the history of the asset, newest first"),
    "versions": ("ama.porcelain.versions", "list the versions recorded on the remote"),
    "ls": ("ama.porcelain.ls", "list the files of a version on the remote, without a work tree"),
    "get": ("ama.porcelain.get", "copy a file or directory of a version out of the remote, verified"),
    "cat": ("ama.porcelain.cat", "write a file of a version to stdout, verified as it streams"),
    "show": ("ama.porcelain.show", "show a version: commit, provenance, files"),
    "diff": ("ama.porcelain.diff", "added, removed and modified paths between versions or the work tree"),
    "remote": ("ama.porcelain.remote", "add, list or remove remotes"),
    "config": ("ama.porcelain.config", "get or set repository options"),
    "alias": ("ama.porcelain.alias", "name an asset: CLASS/ALIAS"),
    "inputs": ("ama.porcelain.inputs", "record lineage: versions the next commit was made from"),
    "push": ("ama.porcelain.push", "copy committed versions to another remote"),
    "prune": ("ama.porcelain.prune", "free local space: drop contents of older versions the remote holds"),
    "du": ("ama.porcelain.du", "show what the local store holds and what prune would free"),
    "refresh": ("ama.porcelain.refresh", "check referenced sources, or re-pin what they hold now"),
    "gc": ("ama.porcelain.gc", "drop unreferenced local objects; expire abandoned reservations"),
    "hooks": ("ama.porcelain.hooks", "install, remove or show ama's git hooks"),
}
PLUMBING = {
    "hash-object": ("ama.plumbing.hash_object", "print BLAKE3 ids of files; -w stores them"),
    "stat-check": ("ama.plumbing.stat_check", "compare paths with their index snapshots"),
    "update-index": ("ama.plumbing.update_index", "add, remove or refresh index entries"),
    "ls-files": ("ama.plumbing.ls_files", "list the index"),
    "write-tree": ("ama.plumbing.write_tree", "write the index as trees, print the root tree id"),
    "cat-file": ("ama.plumbing.cat_file", "show an object's type, size or content"),
    "ls-tree": ("ama.plumbing.ls_tree", "list a tree object"),
    "fsck": ("ama.plumbing.fsck", "verify stored objects against their names, locally or on a remote"),
    "push-staged": ("ama.plumbing.push_staged", "upload every staged content the remote lacks, verified"),
    "commit-tree": ("ama.plumbing.commit_tree", "write a commit object, print its id"),
    "update-ref": ("ama.plumbing.update_ref", "move a ref, compare-and-swap on OLD"),
    "reserve-version": ("ama.plumbing.reserve_version", "reserve the next version of an asset on the remote"),
    "publish-version": ("ama.plumbing.publish_version", "publish a commit as the version it reserved, on the remote"),
    "rev-parse": ("ama.plumbing.rev_parse", "resolve version names to commit ids"),
    "ls-remote": ("ama.plumbing.ls_remote", "list assets and versions on a remote"),
    "check-ignore": ("ama.plumbing.check_ignore", "show which ignore rule matches each path"),
}
COMMANDS = {**PORCELAIN, **PLUMBING}


# Whole argument lists run without argparse (which, with re, enum, gettext
# and shutil, costs more than the rest of `ama status` in a small
# repository): command -> the options argparse gives by default, and the
# argument list -> the options it sets. Anything else goes through argparse;
# tests/test_cli.py checks every entry against what argparse builds.
_DEFAULTS = {
    "status": {"paths": [], "porcelain": False, "z": False, "untracked_files": None, "no_renames": False,
               "refs": False},
    "stat-check": {"paths": [], "z": False, "all": False, "untracked": False, "quiet": False, "no_refresh": False,
                   "pending": False},
}
FAST = {
    ("status",): {},
    ("status", "--porcelain"): {"porcelain": True},
    ("status", "--porcelain", "-z"): {"porcelain": True, "z": True},
    ("status", "-z"): {"z": True},
    ("stat-check",): {},
    ("stat-check", "-q"): {"quiet": True},
    ("stat-check", "--untracked"): {"untracked": True},
    ("stat-check", "-z"): {"z": True},
}


class _Args:
    """What ``parse_args`` returns, for the argument lists of ``FAST``."""

    def __init__(self, **options) -> None:
        self.__dict__.update(options)


def _fast_args(argv: list[str]) -> _Args | None:
    options = FAST.get(tuple(argv))
    if options is None:
        return None
    name = argv[0]
    started = _start_status() if name == "status" else None  # before the import: it runs alongside
    module = __import__(COMMANDS[name][0], fromlist=["run"])  # importlib would cost more than this
    # paths: a fresh list each time, as argparse gives
    args = _Args(chdir=None, command=name, **{**_DEFAULTS[name], "paths": [], **options}, _run=module.run)
    if started is not None:
        args._started = started
    return args


def _start_status() -> tuple | None:
    """For ``ama status`` of the whole tree: the repository, its index, and
    (with the compiled core) the core's stat check of the index begun. The
    check starts as soon as the index is mapped, before the index module is
    imported and the index checked (Index.load then checks those very
    bytes), its threads stating while this one imports the command;
    ama.statcheck's check(started=...) finishes it. None if the repository
    or its index cannot be had: the command then looks for them itself and
    reports why."""
    try:
        from .repo import Repo, find_root

        repo = Repo(find_root())
    except Exception:  # noqa: BLE001 - whatever it is, status meets it again and reports it
        return None
    mapped = handle = None
    try:
        import mmap

        with open(repo.index_path, "rb") as f:
            mapped = (mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), os.fstat(f.fileno()).st_mtime_ns)
        from .policy import check_threads, core, is_compiled

        if is_compiled():
            handle = core().check_start(mapped[0], repo.root, mapped[1], check_threads())
    except Exception:  # noqa: BLE001 - no index, an empty one, no mmap, no core: the usual path decides
        pass
    try:
        index = repo.load_index(mapped)
    except Exception:  # noqa: BLE001 - as above
        return None
    if handle is None or index.raw_v3() is not mapped[0]:
        return repo, index, None
    return repo, index, (mapped[0], repo.root, mapped[1], handle)


def _top_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    import argparse

    class _Parser(argparse.ArgumentParser):
        """A command-line mistake is one line on stderr and exit 2, like every
        other failure (argparse would print the usage first)."""

        def error(self, message: str):
            from .errors import EXIT_USAGE

            if message.startswith("argument COMMAND: invalid choice: "):
                message = message.split(": ", 2)[2].split(" (choose", 1)[0] + " is not an ama command"
            self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")

    parser = _Parser(
        prog="ama",
        description="Version large data assets the way git versions code.",
        epilog="Run 'ama COMMAND --help' for a command's options. Exit codes: docs/exit-codes.md.",
    )
    parser.add_argument("--version", action="version", version=f"ama {__version__}")
    parser.add_argument("-C", dest="chdir", metavar="DIR", help="run as if ama was started in DIR")
    # prog given: otherwise argparse builds a help formatter (and imports
    # shutil) on every run just to compute it.
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog="ama")
    return parser, sub


def _add_command(sub, name: str) -> argparse.ArgumentParser:
    import importlib

    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(module_name)
    p = sub.add_parser(name, help=help_text, description=module.__doc__.strip().split("\n\n")[0])
    module.configure(p)
    p.set_defaults(_run=module.run)
    return p


def get_parser() -> argparse.ArgumentParser:
    """The whole parser, every command configured (for man pages and tests)."""
    parser, sub = _top_parser()
    for name in COMMANDS:
        _add_command(sub, name)
    return parser


def _parser_for(argv: list[str]) -> argparse.ArgumentParser:
    parser, sub = _top_parser()
    name = _command_name(argv)
    for other in COMMANDS:
        if other == name:
            _add_command(sub, other)
        else:
            sub.add_parser(other, help=COMMANDS[other][1], add_help=False)
    return parser


def _command_name(argv: list[str]) -> str | None:
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "-C":
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--version"]:
        from .policy import describe

        sys.stdout.write(f"ama {__version__} ({describe()})\n")
        return 0
    # File names are bytes: ones that are not UTF-8 arrive as surrogates
    # and must go out as the same bytes, not crash the writer.
    sys.stdout.reconfigure(errors="surrogateescape")
    try:
        code = _run(argv)
    finally:
        # Remotes own connections and (S3) a thread pool: release them,
        # whichever command opened them. Not imported, nothing was opened.
        remote = sys.modules.get("ama.remote")
        if remote is not None:
            remote.close_all()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return code


# Commands that leave nothing to the interpreter's teardown: run as the
# console script, the process ends as soon as they return and their output
# is out (as git's does, freeing nothing), sparing the teardown of every
# module and object (~3 ms of an `ama status`; docs/benchmarks.md).
EXIT_AT_ONCE = {"status", "stat-check"}


def console() -> None:
    """The ``ama`` console script: main(), then exit."""
    code = main()
    if _command_name(sys.argv[1:]) in EXIT_AT_ONCE and _nothing_left():
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(code)  # the teardown reports it, as for any command
        os._exit(code)
    sys.exit(code)


def _nothing_left() -> bool:
    """No thread but this one and no exit handler: nothing the teardown would run."""
    import atexit

    threading = sys.modules.get("threading")
    return (threading is None or threading.active_count() == 1) and getattr(atexit, "_ncallbacks", lambda: 1)() == 0


def parse(argv: list[str]) -> argparse.Namespace | _Args | int:
    """The parsed arguments, or the exit code of a usage error (reported)."""
    args = _fast_args(argv)
    if args is not None:
        return args
    parser = _parser_for(argv)
    args, extra = parser.parse_known_args(argv)
    if extra:
        sub = f"ama {args.command}" if args.command else "ama"
        sys.stderr.write(f"{sub}: unrecognized arguments: {' '.join(extra)} (see '{sub} --help')\n")
        return 2
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    return args


def _run(argv: list[str]) -> int:
    import errno

    from .errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_IO, AmaError

    args = parse(argv)
    if isinstance(args, int):
        return args
    debug = os.environ.get("AMA_DEBUG") == "1"
    if args.chdir:
        try:
            os.chdir(args.chdir)
        except OSError as e:
            sys.stderr.write(f"ama {args.command}: cannot change to '{args.chdir}': {e.strerror}\n")
            return 2
    try:
        return args._run(args) or 0
    except AmaError as e:
        if debug:
            raise
        sys.stderr.write(f"ama {args.command}: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"ama {args.command}: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (ama ls-files | head): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as e:
        if debug:
            raise
        where = f"{e.filename}: " if e.filename else ""
        if e.errno == errno.ENOSPC:
            sys.stderr.write(f"ama {args.command}: {where}no space left on device; nothing was changed\n")
        else:
            sys.stderr.write(f"ama {args.command}: {where}{e.strerror or e}\n")
        return EXIT_IO
    except Exception as e:  # noqa: BLE001 - the last line of defence
        if debug:
            raise
        sys.stderr.write(
            f"ama {args.command}: internal error: {type(e).__name__}: {e} (rerun with AMA_DEBUG=1 for a traceback)\n"
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())

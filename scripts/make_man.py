"""Generate the man pages: ama.1 and ama-<command>.1 for every command.

Usage: python scripts/make_man.py [OUTDIR]        (default: man/)

The pages are built by argparse-manpage from ``ama.cli.get_parser()``, so
they list exactly the options the commands take; each command's DESCRIPTION
is its module docstring. ama.1 lists the commands of ``ama.cli.COMMANDS``
(porcelain and plumbing, told apart by the package of their module) and the
exit codes of docs/exit-codes.md.

The output depends only on the source: the date field holds the package
version instead of today's date, and help text is wrapped at a fixed width
whatever the terminal, so ``make man && git diff --exit-code man/`` fails
only when a command's options or text changed. A page of a command that no
longer exists is removed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

# argparse wraps help text to the terminal width (COLUMNS); fix it before
# any formatter exists so the pages do not depend on who runs this.
os.environ["COLUMNS"] = "80"

from argparse_manpage.manpage import Manpage  # noqa: E402

from ama import __version__, cli  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANUAL = "ama manual"

# Which document in docs/ holds the formats a command reads or prints.
DOCS = {
    "status": ["status-format.md", "change-detection.md"],
    "stat-check": ["status-format.md", "change-detection.md", "git-integration.md"],
    "ls-files": ["status-format.md", "index-format.md"],
    "ls-tree": ["status-format.md", "object-format.md"],
    "cat-file": ["status-format.md", "object-format.md"],
    "hash-object": ["object-format.md", "plumbing.md"],
    "update-index": ["index-format.md", "plumbing.md"],
    "write-tree": ["object-format.md", "plumbing.md"],
    "fsck": ["object-format.md"],
    "commit-tree": ["object-format.md", "plumbing.md"],
    "add": ["bad-input.md", "object-format.md", "git-integration.md"],
    "check-ignore": ["git-integration.md"],
    "hooks": ["git-integration.md"],
    "init": ["git-integration.md"],
}

ENVIRONMENT = [
    ("AMA_WORK_TREE", "The work tree to use instead of searching upwards from the current directory."),
    ("AMA_LOCK_TIMEOUT", "Seconds to wait for a held lock file before giving up (default 2)."),
    (
        "AMA_HOME",
        "Where the per-user embedded store lives: ama init's default remote is $AMA_HOME/store "
        "(default: $XDG_DATA_HOME/ama, else ~/.local/share/ama).",
    ),
    ("AMA_AUTHOR_NAME, AMA_AUTHOR_EMAIL", "The author recorded in commits and ref logs."),
    (
        "AMA_AUTHOR_DATE",
        "The time recorded in commits: '<seconds> <+hhmm>', '@<seconds>' or ISO 8601. "
        "Fixing the author and date makes commit ids reproducible.",
    ),
    (
        "AMA_S3_MAX_ATTEMPTS, AMA_S3_CONNECT_TIMEOUT, AMA_S3_READ_TIMEOUT, AMA_S3_CONCURRENCY",
        "S3 remotes: attempts per request (default 6), connect and read timeouts in seconds "
        "(5 and 60), parallel transfers (8). Endpoint, region and credentials come from boto3's "
        "usual chain (AWS_PROFILE, AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, ...).",
    ),
    ("AMA_DEBUG", "Set to 1 to get a Python traceback instead of the one-line error."),
    ("AMA_NO_PROGRESS", "Set to 1 to never draw progress bars."),
    ("AMA_FORCE_TTY", "Set to 1 to format output as for a terminal even when piped."),
    ("NO_COLOR", "When set, output is never coloured."),
]

FILES = [
    (".ama/config", "Repository configuration, git-style INI (core.linkmode, core.linkused, core.objects, ...)."),
    (".ama/index", "The stat snapshot of every staged path; guarded by .ama/index.lock."),
    (".ama/objects/", "The content-addressed object store: .ama/objects/<hh>/<rest of the id>."),
    (".ama/HEAD", "The asset the work tree is on and its current commit."),
    (".ama/refs/assets/", "One file per asset, holding its newest commit id."),
    (".ama/logs/", "An append-only log of every ref change."),
    (".ama/PENDING", "Present while a commit is in flight or was interrupted."),
    (".ama/txn.lock", "Held by commit and checkout; records the owner's pid and host."),
    (
        ".amaignore",
        "Paths to leave alone, in gitignore syntax, at the work-tree root; inside a git repository "
        "git's ignore files apply after it (ama check-ignore -v names the deciding rule).",
    ),
    (".ama-asset", "The pointer file, written by commit and checkout: the asset, version and commit the work tree holds; meant to be tracked by git."),
]


def escape(text: str) -> str:
    """Plain text as roff: backslashes and hyphens escaped, no control lines."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n"))


# The requests this script and argparse-manpage write; a line starting with
# "." or "'" and not one of these is text that happens to begin a line.
REQUESTS = {"TH", "SH", "SS", "TP", "PP", "IP", "RS", "RE", "B", "BR", "I", "UR", "UE", "nf", "fi"}


def protect_text_lines(page: str) -> str:
    """Keep help text that wraps onto a '.' or "'" from being read as a request."""
    lines = []
    for line in page.split("\n"):
        if line.startswith(("'", ".")) and (line[1:].split(" ", 1)[0] not in REQUESTS or line[0] == "'"):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def paragraphs(doc: str) -> str:
    """A docstring as roff paragraphs; a paragraph of '- ' lines becomes a list."""
    out = []
    for para in re.split(r"\n\s*\n", doc.strip()):
        lines = [line.strip() for line in para.splitlines()]
        if lines[0].startswith("- "):
            items = []
            for line in lines:
                if line.startswith("- "):
                    items.append(line[2:])
                else:
                    items[-1] += " " + line
            out += [f".IP \\(bu 2\n{escape(item)}" for item in items]
        else:
            out.append(".PP\n" + escape("\n".join(lines)))
    return "\n".join(out).removeprefix(".PP\n")


def page_name(command: str | None) -> str:
    return f"ama-{command}" if command else "ama"


def see(name: str) -> str:
    return f".BR {escape(name)} (1)"


def make_manpage(parser: argparse.ArgumentParser, name: str, summary: str) -> Manpage:
    man = Manpage(parser)
    man.prog = name
    man.description = summary
    man.date = __version__
    man.source = "ama"
    man.manual = MANUAL
    return man


def command_page(name: str, parser: argparse.ArgumentParser) -> str:
    module_name, summary = cli.COMMANDS[name]
    doc = importlib.import_module(module_name).__doc__ or summary
    parser._positionals.title = "arguments"
    parser.description = None
    man = make_manpage(parser, page_name(name), summary)
    man.add_section("description", "=", paragraphs(doc))
    see_also = [see("ama")]
    docs = DOCS.get(name, [])
    if docs:
        see_also.append(".PP\nIn the ama source: " + ", ".join(escape(f"docs/{d}") for d in docs) + ".")
    man.add_section("see also", "=", "\n".join(see_also))
    return protect_text_lines(str(man))


def exit_codes() -> str:
    """The table of docs/exit-codes.md as a roff list."""
    rows = []
    with open(os.path.join(ROOT, "docs", "exit-codes.md")) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[0].isdigit():
                rows.append(f".TP\n.B {cells[0]}\n{escape(plain(cells[1]) + ': ' + plain(cells[2]))}")
    rows.append(".PP\nThe codes are stable; docs/exit\\-codes.md in the ama source says which commands use each.")
    return "\n".join(rows)


def plain(markdown: str) -> str:
    """Markdown inline text without its markup: `code` and [text](link)."""
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown).replace("`", "")


def definitions(items: list[tuple[str, str]]) -> str:
    return "\n".join(f".TP\n.B {escape(term)}\n{escape(text)}" for term, text in items)


def main_page(parser: argparse.ArgumentParser) -> str:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    man = make_manpage(parser, "ama", parser.description.rstrip(".").lower())
    # The synopsis is taken above; hide the commands from the option list,
    # which would otherwise repeat every command's page here.
    sub.help = argparse.SUPPRESS
    summary = parser.description
    parser.description = None
    parser.epilog = None
    groups: dict[str, list[str]] = {}
    for name, (module_name, help_text) in cli.COMMANDS.items():
        kind = module_name.split(".")[1] if module_name.count(".") >= 2 else "other"
        groups.setdefault(kind, []).append(f".TP\n{see(page_name(name))}\n{escape(help_text)}")
    commands = []
    for kind in sorted(groups, key=lambda k: ("porcelain", "plumbing").index(k) if k in ("porcelain", "plumbing") else 2):
        title = {"porcelain": "Porcelain (for people)", "plumbing": "Plumbing (for scripts; stable formats)"}
        commands.append(f".SS {title.get(kind, kind.capitalize())}\n" + "\n".join(groups[kind]))
    description = escape(summary) + (
        "\n.PP\nEvery command is documented in its own page, ama\\-COMMAND(1); "
        "\\fBama COMMAND \\-\\-help\\fR prints its options."
    )
    man.add_section("description", "=", description)
    man.add_section("commands", "=", "\n".join(commands))
    man.add_section("exit status", "=", exit_codes())
    man.add_section("environment", "=", definitions(ENVIRONMENT))
    man.add_section("files", "=", definitions(FILES))
    man.add_section("see also", "=", ",\n".join(see(page_name(n)) for n in cli.COMMANDS))
    return protect_text_lines(str(man))


def render_all() -> dict[str, str]:
    """file name -> page text for ama.1 and every command."""
    pages = {}
    parser = cli.get_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in cli.COMMANDS:
        pages[page_name(name) + ".1"] = command_page(name, sub.choices[name])
    pages["ama.1"] = main_page(cli.get_parser())
    return pages


def main(argv: list[str]) -> int:
    outdir = argv[1] if len(argv) > 1 else "man"
    os.makedirs(outdir, exist_ok=True)
    pages = render_all()
    for old in os.listdir(outdir):
        if re.fullmatch(r"ama(-.+)?\.1", old) and old not in pages:
            os.unlink(os.path.join(outdir, old))
    for file_name, text in sorted(pages.items()):
        path = os.path.join(outdir, file_name)
        try:
            with open(path) as f:
                if f.read() == text:
                    continue
        except FileNotFoundError:
            pass
        with open(path, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

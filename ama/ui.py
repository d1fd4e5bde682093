"""All output goes through here.

On a terminal: rich (colour, tables, progress bars for work that takes over
a second). Piped: plain, stable text and no colour, so scripts and porcelain
never depend on presentation. rich is imported only when a terminal needs it.
"""

from __future__ import annotations

import os
import sys
import time

PROGRESS_DELAY = 1.0


def is_tty(stream=None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("AMA_FORCE_TTY") == "1":
        return True
    return stream.isatty() and os.environ.get("TERM") != "dumb"


def use_color() -> bool:
    return is_tty(sys.stdout) and "NO_COLOR" not in os.environ


def out(text: str = "", end: str = "\n") -> None:
    sys.stdout.write(text + end)


def out_bytes(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)


def err(text: str) -> None:
    sys.stderr.write(text + "\n")


def warn(text: str) -> None:
    err(f"ama: warning: {text}")


def info(text: str) -> None:
    """Chatter for people (porcelain), on stderr so stdout stays scriptable."""
    err(text)


_console = None


def console():
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(highlight=False)
    return _console


def styled(text: str, style: str) -> str:
    """``text`` in rich markup when colour is on, else as is."""
    if not use_color():
        return text
    from rich.markup import escape

    return f"[{style}]{escape(text)}[/{style}]"


def print_rich(text: str) -> None:
    if use_color():
        console().print(text, soft_wrap=True)
    else:
        out(text)


class Progress:
    """A progress bar on stderr that appears only when the work takes over a
    second and stderr is a terminal; otherwise it costs one clock read per
    update."""

    def __init__(self, description: str, total: int | None = None, unit: str = "files"):
        self.description = description
        self.total = total
        self.unit = unit
        self.done = 0
        self.start = time.monotonic()
        self.enabled = is_tty(sys.stderr) and os.environ.get("AMA_NO_PROGRESS") != "1"
        self._bar = None
        self._task = None

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._bar is None:
            if time.monotonic() - self.start < PROGRESS_DELAY:
                return
            self._start_bar()
        self._bar.update(self._task, completed=self.done)

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn
        from rich.progress import Progress as RichProgress

        columns = [TextColumn("{task.description}"), BarColumn()]
        if self.unit == "bytes":
            columns += [TransferSpeedColumn(), TimeRemainingColumn()]
        else:
            columns += [MofNCompleteColumn(), TimeRemainingColumn()]
        self._bar = RichProgress(*columns, console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task(self.description, total=self.total, completed=self.done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


_C_ESCAPES = {ord("\t"): "\\t", ord("\n"): "\\n", ord('"'): '\\"', ord("\\"): "\\\\"}


def quote_path(path: str) -> str:
    """A path as shown in line-oriented output: C-quoted, as git does, if it
    has quotes, backslashes, control characters or bytes that are not UTF-8
    (each such byte as a 3-digit octal escape)."""
    if path.isprintable() and not any(c in path for c in '"\\'):
        return path
    out = []
    for ch in path:
        if ord(ch) in _C_ESCAPES:
            out.append(_C_ESCAPES[ord(ch)])
        elif ch.isprintable() and not 0xDC80 <= ord(ch) <= 0xDCFF:
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode("utf-8", "surrogateescape"))
    return '"' + "".join(out) + '"'


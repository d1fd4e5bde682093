"""Named crash points for the crash-safety tests.

``AMA_FAILPOINT=<name>`` makes the process SIGKILL itself when it reaches the
point called ``name`` (``<name>:<k>`` at the k-th time it reaches it). The
tests use this to kill ``ama commit`` at every step boundary of the
transaction. ``AMA_FAILPOINT_LOG=<file>`` appends ``<name>:<k>`` to that file
at every point reached, so the fuzz harness (tests/fuzz_harness.py) learns
which points a command passes and can kill it at each. Unset, a point costs
two global lookups.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}
_target = os.environ.get("AMA_FAILPOINT")
_log = os.environ.get("AMA_FAILPOINT_LOG")


def hit(name: str) -> None:
    if not _target and not _log:
        return
    n = _counts[name] = _counts.get(name, 0) + 1
    if _log:
        with open(_log, "a", encoding="utf-8") as f:
            f.write(f"{name}:{n}\n")
    if _target == name or _target == f"{name}:{n}":
        os.kill(os.getpid(), signal.SIGKILL)

"""Named crash points for the crash-safety tests.

``AMA_FAILPOINT=<name>`` makes the process SIGKILL itself when it reaches the
point called ``name`` (``<name>:<k>`` at the k-th time it reaches it). The
tests use this to kill ``ama commit`` at every step boundary of the
transaction; unset, a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}
_target = os.environ.get("AMA_FAILPOINT")


def hit(name: str) -> None:
    if not _target:
        return
    n = _counts[name] = _counts.get(name, 0) + 1
    if _target == name or _target == f"{name}:{n}":
        os.kill(os.getpid(), signal.SIGKILL)

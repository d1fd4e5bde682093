"""Which change-detection core runs: the compiled one (``ama._speedups``)
or its pure-Python twin (``ama._purecore``), as Mercurial's policy module.

``AMA_MODULE_POLICY``:

- ``allow`` (default): the compiled core if it is built and of the expected
  version, else the pure-Python one;
- ``c``: the compiled core, or a one-line usage error (exit 2) saying why not;
- ``py``: the pure-Python core.

``ama --version`` names the active core, so a silent fallback is visible.
"""

from __future__ import annotations

import os

CORE_VERSION = 5  # the VERSION the compiled core must carry

_core = None
_why = ""


def core():
    """The active core module (``check``, ``walk``, ``VERSION``)."""
    global _core, _why
    if _core is not None:
        return _core
    policy = os.environ.get("AMA_MODULE_POLICY", "allow")
    if policy not in ("allow", "c", "py"):
        from .errors import UsageError

        raise UsageError(f"AMA_MODULE_POLICY={policy!r}: expected c, allow or py")
    if policy != "py":
        try:
            from . import _speedups

            if getattr(_speedups, "VERSION", None) != CORE_VERSION:
                raise ImportError(
                    f"ama._speedups is version {getattr(_speedups, 'VERSION', None)}, expected {CORE_VERSION}: rebuild it"
                )
            _core = _speedups
            return _core
        except ImportError as e:
            if policy == "c":
                from .errors import UsageError

                raise UsageError(f"AMA_MODULE_POLICY=c but the compiled core is unavailable: {e}") from e
            _why = str(e)
    from . import _purecore

    _core = _purecore
    return _core


def check_threads() -> int:
    """Threads for the compiled core's stat check: one a core, at most 4."""
    return min(4, os.cpu_count() or 1)


def compiled_available() -> bool:
    """Whether the compiled core is built and of the expected version."""
    try:
        from . import _speedups
    except ImportError:
        return False
    return getattr(_speedups, "VERSION", None) == CORE_VERSION


def is_compiled() -> bool:
    return core().__name__ == "ama._speedups"


def describe() -> str:
    """One line for ``ama --version``."""
    from .errors import AmaError

    try:
        compiled = is_compiled()
    except AmaError as e:
        return f"core: none ({e})"
    if compiled:
        return f"core: compiled (ama._speedups version {CORE_VERSION})"
    return "core: pure Python" + (f" (compiled core unavailable: {_why})" if _why else "")

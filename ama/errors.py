"""The errors a user can see.

Every failure that reaches the user is an ``AmaError``: one line of text and
an exit code. The codes are documented in ``docs/exit-codes.md`` and are
stable; scripts may rely on them.
"""

from __future__ import annotations

# Exit codes. 1 is reserved for "the answer is no" (stat-check found changes,
# diff found differences, cat-file -e found nothing), as in git.
EXIT_DIFFERS = 1
EXIT_USAGE = 2
EXIT_NOT_A_REPO = 3
EXIT_BAD_PATH = 4
EXIT_LOCKED = 5
EXIT_CORRUPT = 6
EXIT_REMOTE = 7
EXIT_CONFLICT = 8
EXIT_PENDING = 9
EXIT_INTEGRITY = 10
EXIT_NOT_FOUND = 11
EXIT_DIRTY = 12
EXIT_UNSAFE_REMOTE = 13
EXIT_INTERRUPTED = 130


class AmaError(Exception):
    """Base class: ``str(err)`` is the one line the user sees."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(AmaError):
    exit_code = EXIT_USAGE


class NotARepository(AmaError):
    exit_code = EXIT_NOT_A_REPO


class BadPath(AmaError):
    """A path the command cannot take: missing, outside, special file..."""

    exit_code = EXIT_BAD_PATH


class LockHeld(AmaError):
    exit_code = EXIT_LOCKED


class Corrupt(AmaError):
    """A file of ours that fails its own checks (index, object, record)."""

    exit_code = EXIT_CORRUPT


class RemoteError(AmaError):
    """The remote could not be reached or answered with an error."""

    exit_code = EXIT_REMOTE


class Conflict(AmaError):
    """Someone else moved first: create-if-absent or compare-and-swap lost."""

    exit_code = EXIT_CONFLICT


class AlreadyExists(Conflict):
    """A create-if-absent write found the key present."""


class PreconditionFailed(Conflict):
    """A compare-and-swap write found a value other than the expected one."""


class UnsafeRemote(AmaError):
    """The remote's server does not honour conditional writes, so two writers
    could take the same version: ama refuses to commit there."""

    exit_code = EXIT_UNSAFE_REMOTE


class PendingTransaction(AmaError):
    exit_code = EXIT_PENDING


class IntegrityError(AmaError):
    """Bytes do not hash to the name they are stored or sent under."""

    exit_code = EXIT_INTEGRITY


class NotFound(AmaError):
    exit_code = EXIT_NOT_FOUND


class VersionNotFound(NotFound, FileNotFoundError):
    """A version name that does not resolve on the remote.

    Also a ``FileNotFoundError``, so that Python code reading versions
    (pandas through ``ama://``, any ``except OSError``) sees what it expects.
    """


class PathNotFound(NotFound, FileNotFoundError):
    """A path that is not in the version (also a ``FileNotFoundError``)."""


class IsADirectory(BadPath, IsADirectoryError):
    """A directory of a version where a file was asked for (also an ``IsADirectoryError``)."""


class DirtyWorkTree(AmaError):
    """Tracked files changed in a way that blocks the command."""

    exit_code = EXIT_DIRTY


EXIT_IO = 14
EXIT_INTERNAL = 70

"""Remotes: where committed versions live, a directory or an S3 prefix.

``open_remote`` turns a remote URL into a backend; everything above it
(``ama.remote.transfer``, the commit transaction) works on the ``Remote``
interface of ``ama.remote.base`` and never asks which backend it has.
"""

from __future__ import annotations

import os
import weakref
from urllib.parse import unquote, urlsplit

from ama.errors import UsageError
from ama.remote.base import Remote

__all__ = ["Remote", "close_all", "open_remote"]

# Every remote opened and not yet garbage: ``close_all`` releases their
# connections and thread pools when a command ends (cli), whichever code
# path opened them.
_opened: weakref.WeakSet[Remote] = weakref.WeakSet()


def close_all() -> None:
    """Close every remote opened in this process (closing twice is harmless)."""
    for remote in list(_opened):
        remote.close()
    _opened.clear()


def open_remote(
    url: str,
    *,
    endpoint: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    max_attempts: int | None = None,
) -> Remote:
    """The remote at ``url``: ``s3://bucket/prefix``, ``file:///dir`` or a directory path.

    ``endpoint``, ``region`` and ``profile`` apply to S3 remotes only and
    override boto3's own configuration; so does ``max_attempts`` (requests
    tried, default ``AMA_S3_MAX_ATTEMPTS``). A directory remote is created on
    its first write.
    """
    if url.startswith("s3://"):
        # Imported here: the S3 backend pulls in boto3 when instantiated.
        from ama.remote.s3 import S3Remote

        remote: Remote = S3Remote(url, endpoint=endpoint, region=region, profile=profile, max_attempts=max_attempts)
        _opened.add(remote)
        return remote

    from ama.remote.local import LocalRemote

    if url.startswith("file:"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise UsageError(f"remote URL {url!r}: use file:///absolute/path")
        return LocalRemote(unquote(parts.path))
    if "://" in url or not url:
        raise UsageError(
            f"remote URL {url!r} is not supported: use a directory, file:///path or s3://bucket/prefix"
        )
    return LocalRemote(os.path.expanduser(url))

"""Which remote a repository talks to, from its config.

``remote.<name>.url`` (and for S3 ``endpoint``, ``region``, ``profile``);
``core.remote`` names the default (``origin``). ``ama init`` without
``--remote`` records the per-user embedded store, ``$AMA_HOME/store``
(default ``~/.local/share/ama/store``), so a fresh machine needs nothing else.
"""

from __future__ import annotations

import os

from .errors import UsageError
from .repo import Repo


def ama_home() -> str:
    """The per-user directory: ``$AMA_HOME``, else ``$XDG_DATA_HOME/ama``."""
    home = os.environ.get("AMA_HOME")
    if not home:
        data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
        home = os.path.join(data, "ama")
    return os.path.abspath(home)


def default_store_url() -> str:
    return os.path.join(ama_home(), "store")


def default_name(repo: Repo) -> str:
    return repo.config.get("core.remote", "origin") or "origin"


def remote_url(repo: Repo, name: str | None = None) -> str:
    name = name or default_name(repo)
    url = repo.config.get(f"remote.{name}.url")
    if not url:
        if name not in repo.config.subsections("remote"):
            known = ", ".join(repo.config.subsections("remote")) or "none"
            raise UsageError(f"no remote named '{name}' (configured: {known}); add one with 'ama remote add'")
        raise UsageError(f"remote '{name}' has no url; set it with 'ama config remote.{name}.url URL'")
    return url


def open_repo_remote(repo: Repo, name: str | None = None):
    """The backend for a named remote of ``repo`` (default: its default remote)."""
    from .remote import open_remote

    name = name or default_name(repo)
    url = remote_url(repo, name)
    return open_remote(
        url,
        endpoint=repo.config.get(f"remote.{name}.endpoint"),
        region=repo.config.get(f"remote.{name}.region"),
        profile=repo.config.get(f"remote.{name}.profile"),
    )


def open_url(url: str):
    from .remote import open_remote

    return open_remote(url)

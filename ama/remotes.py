"""Which remote a repository talks to, from its config.

``remote.<name>.url`` (and for S3 ``endpoint``, ``region``, ``profile``);
``core.remote`` names the default (``origin``). For S3 remotes the result of
the conditional-write probe (``ama.remote.probe``) is kept too:
``remote.<name>.writes`` (``conditional`` or what fails) and
``remote.<name>.ifmatch`` (``unquoted`` for servers that compare If-Match
without the ETag's quotes); ``remote.<name>.singlewriter = true`` lets this
repository commit to a server that fails the probe. ``ama init`` without
``--remote`` records the per-user embedded store, ``$AMA_HOME/store``
(default ``~/.local/share/ama/store``), so a fresh machine needs nothing else.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from . import ui
from .errors import AmaError, UnsafeRemote, UsageError
from .repo import Repo

if TYPE_CHECKING:
    from .remote.base import Remote


def ama_home() -> str:
    """The per-user directory: ``$AMA_HOME``, else ``$XDG_DATA_HOME/ama``."""
    home = os.environ.get("AMA_HOME")
    if not home:
        data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
        home = os.path.join(data, "ama")
    return os.path.abspath(home)


def default_store_url() -> str:
    return os.path.join(ama_home(), "store")


def normalize_url(url: str) -> str:
    """A remote URL as recorded: directories absolute, URLs checked."""
    if url.startswith(("s3://", "file:")):
        if url.startswith("s3://") and not url[5:].split("/", 1)[0]:
            raise UsageError(f"remote URL '{url}' has no bucket: use s3://bucket/prefix")
        return url
    if "://" in url or not url:
        raise UsageError(f"remote URL '{url}' is not supported: use a directory, file:///path or s3://bucket/prefix")
    return os.path.abspath(os.path.expanduser(url))


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


def open_repo_remote(repo: Repo, name: str | None = None, *, committing: bool = False,
                     max_attempts: int | None = None):
    """The backend for a named remote of ``repo`` (default: its default remote).

    ``committing``: the caller will commit there, so the remote must honour
    conditional writes; it is probed first if it never was (the result is
    saved in the config), and ``UnsafeRemote`` is raised if it fails, unless
    ``remote.<name>.singlewriter`` is set.
    """
    from .remote import open_remote

    name = name or default_name(repo)
    url = remote_url(repo, name)
    remote = open_remote(
        url,
        endpoint=repo.config.get(f"remote.{name}.endpoint"),
        region=repo.config.get(f"remote.{name}.region"),
        profile=repo.config.get(f"remote.{name}.profile"),
        max_attempts=max_attempts,
    )
    if url.startswith("s3://") and repo.config.get(f"remote.{name}.ifmatch") == "unquoted":
        remote.if_match_unquoted = True
    if committing:
        try:
            _check_conditional_writes(repo, name, remote)
        except BaseException:
            remote.close()
            raise
    return remote


def probe_remote(repo: Repo, name: str) -> None:
    """Probe remote ``name`` (after ``init --remote`` or ``remote add``) and keep
    the result; say so if it fails. A server that cannot be asked now (down,
    no bucket yet, no credentials) is asked again before the first commit."""
    from .remote.probe import needs_probe

    if not repo.config.get(f"remote.{name}.url", "").startswith("s3://"):
        return
    try:
        # Two attempts per request: an offline 'init' should not wait out every retry.
        with open_repo_remote(repo, name, max_attempts=2) as remote:
            if not needs_probe(remote):
                return
            found = _probe_and_save(repo, name, remote)
    except AmaError as e:
        ui.warn(f"could not check whether remote '{name}' honours conditional writes ({e}); "
                "it is checked again before the first commit")
        return
    if not found.safe:
        ui.warn(_unsafe_message(repo, name, found.writes))


def _check_conditional_writes(repo: Repo, name: str, remote) -> None:
    from .remote.probe import needs_probe

    if not needs_probe(remote):
        return
    writes = repo.config.get(f"remote.{name}.writes")
    if writes is None:
        writes = _probe_and_save(repo, name, remote).writes
    if writes == "conditional":
        return
    if repo.config.get(f"remote.{name}.singlewriter", "").lower() in ("true", "yes", "1"):
        ui.warn(f"remote '{name}' {_what_fails(writes)}; committing anyway as its only writer "
                f"(remote.{name}.singlewriter): a commit made elsewhere at the same time would be lost")
        return
    raise UnsafeRemote(_unsafe_message(repo, name, writes))


def _probe_and_save(repo: Repo, name: str, remote):
    from .remote.probe import probe

    found = probe(remote)
    repo.config.set(f"remote.{name}.writes", found.writes)
    if found.if_match_unquoted:
        repo.config.set(f"remote.{name}.ifmatch", "unquoted")
    else:
        repo.config.unset(f"remote.{name}.ifmatch")
    repo.config.save()
    return found


def _what_fails(writes: str) -> str:
    from .remote.probe import what_fails

    return what_fails(writes)


def _unsafe_message(repo: Repo, name: str, writes: str) -> str:
    return (
        f"remote '{name}' ({remote_url(repo, name)}) {_what_fails(writes)}; ama does not commit there. "
        f"If this repository is its only writer, 'ama config remote.{name}.singlewriter true' commits anyway "
        f"(then a commit made elsewhere at the same time is lost); to test the server again, "
        f"'ama config --unset remote.{name}.writes'"
    )


def open_url(url: str, endpoint: str | None = None, region: str | None = None, profile: str | None = None):
    """The remote at ``url`` (with S3 settings given on the command line)."""
    from .remote import open_remote

    return open_remote(url, endpoint=endpoint, region=region, profile=profile)


def add_s3_options(p: argparse.ArgumentParser, *, only_with: str | None = None) -> None:
    """``--endpoint``, ``--region`` and ``--profile`` for a command that names an S3 remote."""
    tail = f" (with {only_with})" if only_with else ""
    p.add_argument("--endpoint", help=f"S3 endpoint URL, for S3-compatible services{tail}")
    p.add_argument("--region", help=f"S3 region{tail}")
    p.add_argument("--profile", help=f"AWS profile for the S3 credentials{tail}")


def open_url_args(args: argparse.Namespace) -> Remote:
    """``open_url(args.url)`` with the command's ``--endpoint/--region/--profile``."""
    return open_url(args.url, args.endpoint, args.region, args.profile)


def refuse_s3_options_without_url(args: argparse.Namespace) -> None:
    given = [f"--{o}" for o in ("endpoint", "region", "profile") if getattr(args, o)]
    if given and not args.url:
        raise UsageError(f"{given[0]} applies to --url; a named remote's settings are in its config "
                         "(ama remote add ... --endpoint)")

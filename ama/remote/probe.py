"""Does a remote's server honour conditional writes? Ask it, once.

The commit protocol rests on two primitives (``ama.remote.base``):
create-if-absent and compare-and-swap. On S3 they are the ``If-None-Match``
and ``If-Match`` conditions of PutObject, and a server that ignores them
answers exactly as if it honoured them: two writers then both "reserve" the
same version. The only way to know is to try, on a scratch key:

1. create it (create-if-absent);
2. create it again: must fail, else the server ignores ``If-None-Match``;
3. compare-and-swap with a wrong token: must fail, else it ignores ``If-Match``;
4. compare-and-swap with the right token: must succeed, else it refuses
   every ``If-Match``; this also learns whether it wants the ETag quoted
   (as S3 does) or not (Ceph RGW before 2025);
5. delete it.

Scratch keys are ``probes/<unix time>-<random>``; a probe killed half-way
leaves one behind, which the next probe of that remote removes once it is
an hour old. A directory remote makes its own conditional writes (links and
locks, ``ama.remote.local``) and needs no probe.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ama.errors import AlreadyExists, AmaError, PreconditionFailed, UnsafeRemote
from ama.remote.base import Remote

CONDITIONAL = "conditional"
IGNORES_IF_NONE_MATCH = "ignores-if-none-match"
IGNORES_IF_MATCH = "ignores-if-match"
REFUSES_IF_MATCH = "refuses-if-match"
OUTCOMES = (CONDITIONAL, IGNORES_IF_NONE_MATCH, IGNORES_IF_MATCH, REFUSES_IF_MATCH)

PROBE_PREFIX = "probes/"
_STALE_AFTER = 3600  # seconds before another probe removes a leftover scratch key
# A well-formed ETag (quoted MD5) that no stored value has.
_WRONG_TOKEN = '"' + "0" * 32 + '"'

_WHAT_FAILS = {
    IGNORES_IF_NONE_MATCH: "ignores If-None-Match (create-if-absent), so two writers could reserve the same version",
    IGNORES_IF_MATCH: "ignores If-Match (compare-and-swap), so a writer could overwrite a version another committed",
    REFUSES_IF_MATCH: "refuses every If-Match (compare-and-swap), so no commit can complete",
}


@dataclass(frozen=True)
class Probe:
    """What a probe found: ``writes`` is one of ``OUTCOMES``."""

    writes: str
    if_match_unquoted: bool = False

    @property
    def safe(self) -> bool:
        return self.writes == CONDITIONAL


def needs_probe(remote: Remote) -> bool:
    """Whether ``remote``'s conditional writes depend on a server (S3)."""
    return remote.url.startswith("s3://")


def probe(remote: Remote) -> Probe:
    """Try both conditional writes on a scratch key of ``remote`` and clean up.

    Raises the remote's own errors (unreachable, access denied, no bucket);
    a failed condition is a result, not an error.
    """
    _reap_stale(remote)
    key = f"{PROBE_PREFIX}{int(time.time())}-{secrets.token_hex(8)}"
    token = remote.create(key, b"ama probe: first write")
    try:
        try:
            remote.create(key, b"ama probe: second create-if-absent")
        except AlreadyExists:
            pass
        else:
            return Probe(IGNORES_IF_NONE_MATCH)
        try:
            remote.replace(key, b"ama probe: compare-and-swap with a wrong token", _WRONG_TOKEN)
        except PreconditionFailed:
            pass
        else:
            return Probe(IGNORES_IF_MATCH)
        try:
            remote.replace(key, b"ama probe: compare-and-swap with the right token", token)
        except (PreconditionFailed, UnsafeRemote):
            return Probe(REFUSES_IF_MATCH)
        return Probe(CONDITIONAL, bool(getattr(remote, "if_match_unquoted", False)))
    finally:
        with contextlib.suppress(AmaError):
            remote.delete(key)


def what_fails(writes: str) -> str:
    """Why a remote whose probe found ``writes`` cannot be shared, in words."""
    return _WHAT_FAILS.get(writes, f"failed the conditional-write probe ({writes})")


def _reap_stale(remote: Remote) -> None:
    now = time.time()
    for key in _stale_keys(remote, now):
        with contextlib.suppress(AmaError):
            remote.delete(key)


def _stale_keys(remote: Remote, now: float) -> Iterator[str]:
    for key in remote.list(PROBE_PREFIX):
        stamp = key[len(PROBE_PREFIX) :].partition("-")[0]
        if not stamp.isdigit() or int(stamp) < now - _STALE_AFTER:
            yield key

"""Reference entries of trees: from a reference object to verified bytes.

A tree entry of kind ``ref`` names a reference object (``ama/sources.py``).
Before such an entry's bytes reach a work tree or a reader, ``content``
brings them into the object store under their BLAKE3 id, trying in order:

1. the local store, when the BLAKE3 id is known (recorded in the reference,
   or learned when the bytes were first fetched: ``<store>/resolved/<ref id>``);
2. a copy on the remote (``commit --push-refs``), verified like any object;
3. the source itself, pinned to the recorded version and verified against the
   strongest recorded check (``sources.fetch``).

The model is in ``docs/references.md``.
"""

from __future__ import annotations

import os

from .errors import Corrupt, NotFound
from .fsutil import atomic_write
from .objects import HEX64
from .sources import Reference
from .store import Store

RESOLVED = "resolved"


def load(store: Store, remote, ref_id: str) -> Reference:
    """The reference object ``ref_id``: from ``store``, else fetched (verified) into it."""
    if store.has(ref_id) or remote is None:
        data = store.read_bytes(ref_id)
    else:
        from .version_transfer import fetch_into

        data = fetch_into(store, remote, ref_id)
    return Reference.parse(data, ref_id)


def _resolved_path(store: Store, ref_id: str) -> str:
    return os.path.join(store.root, RESOLVED, ref_id)


def known_content(store: Store, ref_id: str, ref: Reference) -> str | None:
    """The BLAKE3 id of the referenced bytes, if recorded or learned before."""
    if ref.blake3:
        return ref.blake3
    try:
        with open(_resolved_path(store, ref_id), "rb") as f:
            text = f.read(80).decode("ascii", "replace").strip()
    except FileNotFoundError:
        return None
    # A damaged note is forgotten, not trusted: the bytes are fetched again.
    return text if HEX64.match(text) else None


def remember(store: Store, ref_id: str, digest: str) -> None:
    os.makedirs(os.path.join(store.root, RESOLVED), exist_ok=True)
    atomic_write(_resolved_path(store, ref_id), digest.encode() + b"\n")


def content(store: Store, remote, ref_id: str) -> str:
    """The BLAKE3 id of reference ``ref_id``'s bytes, which the store then holds, verified."""
    ref = load(store, remote, ref_id)
    digest = known_content(store, ref_id, ref)
    if digest is not None:
        if store.has(digest):
            return digest
        if remote is not None and digest in remote.has_objects([digest]):
            from .version_transfer import download_into

            download_into(store, remote, digest)
            return digest
    # sources.fetch verifies a recorded BLAKE3; a learned one that the
    # fetched bytes disagree with is simply replaced by what they hash to.
    fetched = ingest(store, ref)
    remember(store, ref_id, fetched)
    return fetched


def ingest(store: Store, ref: Reference) -> str:
    """Fetch the referenced bytes from their source into ``store``; their id."""
    from . import sources

    os.makedirs(store.root, exist_ok=True)
    tmp = os.path.join(store.root, f".tmp-ref-{os.getpid()}-{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        try:
            digest = sources.fetch(ref, fd)
            os.fsync(fd)
        finally:
            os.close(fd)
        store.publish_file(tmp, digest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return digest


def describe(ref: Reference) -> str:
    where = ref.url
    if ref.versioned:
        where += f" (version {ref.version_id})"
    return where


def check_all(store: Store, remote, refs: dict[str, str]) -> dict[str, str]:
    """``path -> ref id`` to ``path -> problem`` for the sources that changed
    or vanished (HEAD requests only, no bytes)."""
    from . import sources

    problems = {}
    for path, ref_id in sorted(refs.items()):
        try:
            ref = load(store, remote, ref_id)
        except (NotFound, Corrupt) as e:
            problems[path] = f"unreadable reference ({e})"
            continue
        problem = sources.check(ref)
        if problem:
            problems[path] = problem
    return problems


# -- recording references ------------------------------------------------------


def probe_url(url: str, dest: str | None) -> list[tuple[str, Reference]]:
    """(work-tree path, reference) for what is at ``url`` now: one object, or
    every object below an ``s3://`` prefix (a URL ending in ``/``, or one
    that names no object but has objects below it).

    ``dest`` is the work-tree path of a single object (ending in ``/``: the
    directory to put it in), or the directory that receives a prefix's
    objects; by default the last component of the URL.
    """
    from urllib.parse import unquote, urlsplit

    from . import sources
    from .errors import BadPath

    parts = urlsplit(url)
    name = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1]) or parts.netloc
    if not url.endswith("/"):
        try:
            ref = sources.probe(url)
        except NotFound:
            if not url.startswith("s3://"):
                raise
        else:
            path = name if dest is None else dest + name if dest.endswith("/") else dest
            return [(path.strip("/"), ref)]
    if not url.startswith("s3://"):
        raise BadPath(f"{url}: names a directory; give the URL of a file")
    found = sorted(sources.list_prefix(url))
    if not found:
        raise NotFound(f"{url}: no such object, and no object below it")
    base = (name if dest is None else dest).strip("/")
    return [(f"{base}/{rel}" if base else rel, sources.probe(item)) for rel, item in found]


def hash_and_store(store: Store, ref: Reference, compute_hash: bool = False) -> str:
    """Store ``ref`` (with its BLAKE3 id first read from the source when
    ``compute_hash``) as a reference object; its id."""
    from . import sources

    if compute_hash and not ref.blake3:
        ref.blake3 = sources.hash_source(ref)
    return store.write_bytes(ref.serialize())


def stage_urls(repo, index, urls: list[str], dest: str | None, compute_hash: bool, copy: bool) -> list[tuple[str, Reference]]:
    """Stage what ``urls`` name, each path checked before anything is staged:
    as references (not materialised), or with ``copy`` as ordinary files
    whose bytes are fetched, verified and placed in the work tree."""
    from .errors import BadPath, UsageError
    from .names import name_problem

    if dest is not None and len(urls) > 1:
        raise UsageError("--to takes one URL")
    found: list[tuple[str, Reference]] = []
    for url in urls:
        found.extend(probe_url(url, dest))
    seen: set[str] = set()
    for path, ref in found:
        problem = name_problem(path) or ("named twice" if path in seen else None)
        if problem:
            raise BadPath(f"{ref.url}: cannot be recorded at {path!r} ({problem}); give another path with --to")
        seen.add(path)
        full = repo.abspath(path)
        if os.path.lexists(full):
            raise BadPath(f"{path}: already exists in the work tree; remove it or give another path with --to")
    store = repo.store
    for path, ref in found:
        if copy:
            digest = ingest(store, ref)
            full = repo.abspath(path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            store.link_out(digest, full)
            index.add(path, digest, os.lstat(full))
        else:
            index.add_reference(path, hash_and_store(store, ref, compute_hash), ref.size)
    return found


def pin_contents(repo) -> int:
    """Record the BLAKE3 id in every staged reference that lacks it (the
    bytes are fetched into the store, verified, once): a copy pushed to the
    remote can then be found by it. Returns how many were re-recorded."""
    changed = 0
    with repo.locked_index() as (lock, index):
        for path in sorted(index.reference_paths()):
            ref_id = index.digest(path)
            ref = load(repo.store, None, ref_id)
            if ref.blake3:
                continue
            full = repo.abspath(path)
            materialised = not index.is_skip_worktree(path)
            if materialised and not index.unchanged(path, full):
                continue  # the commit's own check refuses it
            ref.blake3 = content(repo.store, None, ref_id)
            new_id = repo.store.write_bytes(ref.serialize())
            index.add_reference(path, new_id, ref.size, os.lstat(full) if materialised else None)
            changed += 1
        if changed:
            index.write(lock)
    return changed

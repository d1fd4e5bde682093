"""A remote under an S3 prefix, on AWS or any S3-compatible service.

The two protocol primitives map onto S3 conditional writes:
create-if-absent is PutObject with ``If-None-Match: *`` and compare-and-swap
is PutObject with ``If-Match: <etag>``; the token is the ETag (sent without
its quotes to servers that compare it so, see ``replace``). A store that
ignores those headers cannot host a remote safely; ``ama.remote.probe``
finds out (see ``docs/remote-layout.md``).

boto3 is imported only when an ``S3Remote`` is made: importing it costs a
fifth of a second, which ``ama --version`` must not pay.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import blake3

from ama import failpoint
from ama.errors import (
    AlreadyExists,
    AmaError,
    Conflict,
    IntegrityError,
    NotFound,
    PreconditionFailed,
    RemoteError,
    UnsafeRemote,
    UsageError,
)
from ama.fsutil import PARTIAL_RANGES_SUFFIX, cannot_write, open_partial, write_all
from ama.hashing import EMPTY_ID, hash_bytes
from ama.remote._files import (
    OpenFile,
    commit_temp,
    discard_temp,
    open_source,
    pwrite_all,
    read_all,
    read_upto,
    unlink_quietly,
)
from ama.remote.base import (
    SMALL_OBJECT,
    Leftover,
    Progress,
    Remote,
    hash_file,
    object_key,
    short,
)

if TYPE_CHECKING:
    from botocore.client import BaseClient

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_CONCURRENCY = 8
DEFAULT_PART_SIZE = 8 << 20
MIN_PART_SIZE = 5 << 20  # S3's floor for every part but the last
MAX_PARTS = 10_000  # S3's ceiling on parts per upload

# Below this many digests, parallel HEADs answer has_objects in one or two
# round trips; above it, a LIST page (up to 1000 keys) usually settles far
# more digests per request. See has_objects.
_HEAD_BATCH = 32
_LIST_PAGE = 1000  # S3's maximum keys per ListObjectsV2 page

_ACCESS_CODES = {
    "AccessDenied",
    "403",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
}


class S3Remote(Remote):
    """A remote at ``s3://bucket/prefix``.

    Endpoint, region and credentials come from boto3's usual chain (profiles,
    ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...)
    unless given here. Retry and timeout knobs default to the ``AMA_S3_*``
    environment variables, then to the module's defaults.
    """

    def __init__(
        self,
        url: str,
        endpoint: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        *,
        max_attempts: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        concurrency: int | None = None,
        part_size: int | None = None,
        multipart_threshold: int | None = None,
    ):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise UsageError(f"remote URL {url!r} is not of the form s3://bucket/prefix")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.url = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self._base = f"{self.prefix}/" if self.prefix else ""

        self.max_attempts = max_attempts or _env_number("AMA_S3_MAX_ATTEMPTS", int, DEFAULT_MAX_ATTEMPTS)
        self.connect_timeout = connect_timeout or _env_number(
            "AMA_S3_CONNECT_TIMEOUT", float, DEFAULT_CONNECT_TIMEOUT
        )
        self.read_timeout = read_timeout or _env_number("AMA_S3_READ_TIMEOUT", float, DEFAULT_READ_TIMEOUT)
        self.concurrency = concurrency or _env_number("AMA_S3_CONCURRENCY", int, DEFAULT_CONCURRENCY)
        self.part_size = part_size or DEFAULT_PART_SIZE
        # Whether this server compares If-Match against the unquoted ETag
        # (see _replace_other_quoting); learned on the first compare-and-swap.
        self.if_match_unquoted = False
        self.multipart_threshold = multipart_threshold or SMALL_OBJECT
        if self.part_size < MIN_PART_SIZE:
            raise UsageError(f"S3 part size {self.part_size} is below the 5 MiB minimum")

        # An empty endpoint (an unset config value) means boto3's default.
        self.client = self._make_client(endpoint or None, region or None, profile or None)
        self.endpoint_url: str = self.client.meta.endpoint_url
        # Part uploads, ranged downloads and HEADs for every caller share one
        # pool; the semaphore bounds how many part buffers exist at once
        # across all concurrent multipart uploads, so memory stays at about
        # concurrency x part_size however many files are pushed in parallel.
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="ama-s3")
        self._buffers = threading.BoundedSemaphore(self.concurrency)

    def _make_client(self, endpoint: str | None, region: str | None, profile: str | None) -> BaseClient:
        import boto3
        import botocore.exceptions
        import botocore.session
        from botocore.config import Config

        if endpoint and not endpoint.startswith(("http://", "https://")):
            raise UsageError(f"S3 endpoint {endpoint!r} must start with http:// or https://")
        core = botocore.session.Session()
        core.register_component("data_loader", _shared_loader())
        config = Config(
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            # One client serves every thread (clients are thread-safe,
            # sessions are not). The pool must cover the caller's transfer
            # threads plus our own, or urllib3 drops connections noisily.
            max_pool_connections=max(64, 4 * self.concurrency),
        )
        # botocore reads AWS_DEFAULT_REGION only; the AWS CLI and the other
        # SDKs read AWS_REGION first.
        region = region or os.environ.get("AWS_REGION") or None
        try:
            session = boto3.session.Session(botocore_session=core, profile_name=profile, region_name=region)
            return session.client("s3", endpoint_url=endpoint, config=config)
        except botocore.exceptions.ProfileNotFound:
            raise UsageError(f"remote {self.url}: {_missing_profile(profile)}") from None

    # -- records -----------------------------------------------------------

    def get(self, key: str) -> bytes:
        return self.get_versioned(key)[0]

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        def attempt() -> tuple[bytes, str]:
            resp = self._call("get_object", key, Key=self.s3_key(key))
            return resp["Body"].read(), resp["ETag"]

        return self._retry_reads(key, attempt)

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", key, Key=self.s3_key(key))
        except NotFound:
            return False
        return True

    def create(self, key: str, data: bytes) -> str:
        try:
            resp = self._conditional_put(key, Key=self.s3_key(key), Body=data, IfNoneMatch="*")
        except PreconditionFailed as e:
            if _was_retried(e) and (etag := self._etag_if_holds(key, data)):
                return etag
            raise AlreadyExists(f"remote {self.url}: {key} already exists") from None
        return resp["ETag"]

    def replace(self, key: str, data: bytes, token: str) -> str:
        try:
            resp = self._conditional_put(key, Key=self.s3_key(key), Body=data, IfMatch=self._if_match(token))
        except PreconditionFailed as e:
            if _was_retried(e) and (etag := self._etag_if_holds(key, data)):
                return etag
            # Stores differ on whether If-Match on a missing key is 404 or 412.
            current = self._etag_of(key)
            if current is None:
                raise NotFound(f"remote {self.url}: {key} not found") from None
            if _unquoted(current) == _unquoted(token):
                return self._replace_other_quoting(key, data, token)
            raise PreconditionFailed(
                f"remote {self.url}: {key} was changed by someone else since it was read"
            ) from None
        return resp["ETag"]

    def _if_match(self, token: str) -> str:
        """``token`` as this server compares If-Match: quoted (as S3 and RFC 9110
        say) unless the server was seen to compare it without quotes."""
        return _unquoted(token) if self.if_match_unquoted else token

    def _replace_other_quoting(self, key: str, data: bytes, token: str) -> str:
        """Compare-and-swap again with the ETag quoted the other way.

        The key still has ``token`` yet the server refused the condition:
        Ceph RGW before 2025 compares If-Match against the ETag without its
        quotes, so a correctly quoted ETag never matches there. The retry is
        as conditional as the first attempt; whichever form succeeds is kept
        for this remote's later writes.
        """
        self.if_match_unquoted = not self.if_match_unquoted
        try:
            resp = self._conditional_put(key, Key=self.s3_key(key), Body=data, IfMatch=self._if_match(token))
        except PreconditionFailed as e:
            self.if_match_unquoted = not self.if_match_unquoted
            if _was_retried(e) and (etag := self._etag_if_holds(key, data)):
                return etag
            current = self._etag_of(key)
            if current is not None and _unquoted(current) == _unquoted(token):
                raise UnsafeRemote(
                    f"remote {self.url}: the server refused a compare-and-swap of {key} whose ETag "
                    "matched, quoted or not; it does not support If-Match and cannot host a shared remote"
                ) from None
            raise PreconditionFailed(
                f"remote {self.url}: {key} was changed by someone else since it was read"
            ) from None
        return resp["ETag"]

    def _etag_of(self, key: str) -> str | None:
        """The key's current ETag, None if it is absent."""
        try:
            return self._call("head_object", key, Key=self.s3_key(key))["ETag"]
        except NotFound:
            return None

    def list(self, prefix: str) -> Iterator[str]:
        strip = len(self._base)
        kwargs: dict[str, Any] = {"Prefix": self.s3_key(prefix)}
        while True:
            resp = self._call("list_objects_v2", f"listing {prefix or '/'}", **kwargs)
            for obj in resp.get("Contents", ()):
                yield obj["Key"][strip:]
            if not resp.get("IsTruncated"):
                return
            kwargs["ContinuationToken"] = resp["NextContinuationToken"]

    def delete(self, key: str) -> None:
        self._call("delete_object", key, Key=self.s3_key(key))

    # -- objects -----------------------------------------------------------

    def has_objects(self, digests: Iterable[str]) -> set[str]:
        # HEAD costs one request per digest whatever the remote holds; a LIST
        # page costs one request per 1000 remote keys whatever was asked. A
        # push asks about many digests of which few or all may be present:
        # walk the sorted digests with LIST pages starting at the next
        # unanswered one (keys sort like digests), which settles a whole
        # run of them per request when the remote is small or dense, and
        # switch to parallel HEADs for the rest as soon as a page settles
        # fewer than _HEAD_BATCH, i.e. when the remote is much larger than
        # the question and LIST would read mostly keys nobody asked about.
        wanted = sorted(set(digests))
        if len(wanted) <= _HEAD_BATCH:
            return self._head_objects(wanted)
        slices = max(1, min(self.concurrency, len(wanted) // _LIST_PAGE))
        step = -(-len(wanted) // slices)
        found: set[str] = set()
        for have, rest in self._map(self._list_merge, [wanted[i : i + step] for i in range(0, len(wanted), step)]):
            found |= have
            found |= self._head_objects(rest)
        return found

    def put_object(self, digest: str, path: str, progress: Progress | None = None) -> bool:
        key = object_key(digest)
        with open_source(path) as src:
            size = os.fstat(src.fileno()).st_size
            if size >= self.multipart_threshold:
                if self.exists(key):
                    return False
                return self._put_multipart(digest, path, src.fileno(), size, progress)
            data = read_all(src.fileno(), size)
        _check_digest(hash_bytes(data), digest, path)
        try:
            self._conditional_put(f"object {digest}", Key=self.s3_key(key), Body=data, IfNoneMatch="*")
        except PreconditionFailed:
            return False
        if progress:
            progress(len(data))
        return True

    def get_object(
        self, digest: str, dest: str, progress: Progress | None = None, mode: int | None = None
    ) -> None:
        try:
            tmp, partial = open_partial(os.path.dirname(os.path.abspath(dest)), digest)
        except OSError as e:
            raise cannot_write(dest, e) from e
        try:
            # An empty content is known by its id alone: no request. (Some
            # servers answer a ranged GET of an empty object with 416, others
            # with 206 and no body.)
            if digest == EMPTY_ID:
                os.ftruncate(tmp.fileno(), 0)
                actual = digest
            else:
                actual = self._download(digest, tmp, progress, partial)
            if actual != digest:
                raise IntegrityError(
                    f"remote {self.url}: object {short(digest)} is corrupt "
                    f"(its bytes hash to {short(actual)}); check the remote with 'ama fsck --remote NAME --full'"
                )
            commit_temp(tmp, dest, mode)
        except OSError as e:
            _discard_download(tmp)
            raise cannot_write(dest, e) from e
        except (RemoteError, KeyboardInterrupt):
            # The store could not be reached, or the user stopped us: keep
            # what arrived and its record of ranges for the next download.
            if partial:
                tmp.close()
            else:
                _discard_download(tmp)
            raise
        except BaseException:
            _discard_download(tmp)
            raise
        unlink_quietly(tmp.name + PARTIAL_RANGES_SUFFIX)

    def read_object(self, digest: str, start: int = 0) -> Iterator[bytes]:
        what = f"object {digest}"
        full = self.s3_key(object_key(digest))
        # The first request is made now, so a missing object is NotFound here.
        return self._stream(full, what, start, self._open_stream(full, what, start))

    def _open_stream(self, full: str, what: str, start: int) -> Any:
        # No Range for offset 0: an empty object has no byte 0 to start at.
        extra = {"Range": f"bytes={start}-"} if start else {}
        return self._call("get_object", what, Key=full, **extra)["Body"]

    def _stream(self, full: str, what: str, offset: int, body: Any) -> Iterator[bytes]:
        """Chunks of a response body; a body that breaks off is requested
        again from where it stopped (botocore retries requests, not reads)."""
        from botocore.exceptions import IncompleteReadError, ReadTimeoutError, ResponseStreamingError

        failures = 0
        try:
            while True:
                try:
                    for chunk in body.iter_chunks(1 << 20):
                        offset += len(chunk)
                        yield chunk
                    return
                except (ResponseStreamingError, ReadTimeoutError, IncompleteReadError) as e:
                    failures += 1
                    if failures >= self.max_attempts:
                        raise self._translate(e, what) from e
                    body.close()
                    _sleep_backoff(failures)
                    body = self._open_stream(full, what, offset)
        finally:
            body.close()

    def replace_object(self, digest: str, path: str, progress: Progress | None = None) -> None:
        key = object_key(digest)
        with open_source(path) as src:
            size = os.fstat(src.fileno()).st_size
            if size < self.multipart_threshold:
                data = read_all(src.fileno(), size)
                _check_digest(hash_bytes(data), digest, path)
                try:
                    etag = self._call("head_object", key, Key=self.s3_key(key))["ETag"]
                    condition = {"IfMatch": etag}
                except NotFound:
                    condition = {"IfNoneMatch": "*"}
                # Only over the damaged bytes just seen: a concurrent repair
                # that got there first is left standing.
                with contextlib.suppress(PreconditionFailed):
                    self._conditional_put(f"object {digest}", Key=self.s3_key(key), Body=data, **condition)
                if progress:
                    progress(len(data))
                return
        # A multipart upload cannot be completed over an object on every
        # store; the damaged one is removed first (readers briefly find it
        # missing, never wrong) and the good copy uploaded as usual.
        self.delete(key)
        self.put_object(digest, path, progress)

    def object_size(self, digest: str) -> int | None:
        key = object_key(digest)
        try:
            return int(self._call("head_object", key, Key=self.s3_key(key))["ContentLength"])
        except NotFound:
            return None

    def list_objects(self) -> Iterator[tuple[str, float, int]]:
        strip = len(self.s3_key("objects/"))
        kwargs: dict[str, Any] = {"Prefix": self.s3_key("objects/")}
        while True:
            resp = self._call("list_objects_v2", "listing objects/", **kwargs)
            for obj in resp.get("Contents", ()):
                head, _, rest = obj["Key"][strip:].partition("/")
                if len(head) == 2 and len(rest) == 62:
                    yield head + rest, obj["LastModified"].timestamp(), int(obj["Size"])
            if not resp.get("IsTruncated"):
                return
            kwargs["ContinuationToken"] = resp["NextContinuationToken"]

    def leftovers(self) -> Iterator[Leftover]:
        kwargs: dict[str, Any] = {"Prefix": self._base}
        while True:
            resp = self._call("list_multipart_uploads", "listing unfinished uploads", **kwargs)
            for upload in resp.get("Uploads", ()):
                key = upload["Key"][len(self._base):]
                started = upload["Initiated"].timestamp()
                yield Leftover(f"{key} (unfinished upload)", started, 0, (upload["Key"], upload["UploadId"]))
            if not resp.get("IsTruncated"):
                return
            kwargs["KeyMarker"] = resp.get("NextKeyMarker")
            kwargs["UploadIdMarker"] = resp.get("NextUploadIdMarker")

    def remove_leftover(self, leftover: Leftover) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        full, upload_id = leftover.handle  # type: ignore[misc]
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)
        except ClientError as e:
            if _code(e) not in ("NoSuchUpload", "NoSuchKey", "404"):
                raise self._translate(e, leftover.name) from e
            return False
        except BotoCoreError as e:
            raise self._translate(e, leftover.name) from e
        return True

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    # -- multipart upload --------------------------------------------------

    def _put_multipart(
        self, digest: str, path: str, fd: int, size: int, progress: Progress | None
    ) -> bool:
        what = f"object {digest}"
        full = self.s3_key(object_key(digest))
        part_size = max(self.part_size, -(-size // MAX_PARTS))
        checksum = self.client.meta.config.request_checksum_calculation == "when_supported"
        extra = {"ChecksumAlgorithm": "CRC32"} if checksum else {}
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        upload_id, kept = self._resumable_upload(full, what, fd, part_size, bool(extra), hasher, progress)
        if upload_id is None:
            upload_id = self._call("create_multipart_upload", what, Key=full, **extra)["UploadId"]
        os.lseek(fd, len(kept) * part_size, os.SEEK_SET)
        futures: list[Future[dict[str, Any]]] = []
        failed = threading.Event()
        try:
            number = len(kept) + 1
            while not failed.is_set():
                self._buffers.acquire()
                try:
                    chunk = read_upto(fd, part_size)
                except BaseException:
                    self._buffers.release()
                    raise
                if not chunk:
                    self._buffers.release()
                    break
                # The hash covers the very buffer handed to the upload.
                hasher.update(chunk)
                fut = self._pool.submit(self._upload_part, full, what, upload_id, number, chunk, progress)
                fut.add_done_callback(lambda fu: _flag_failure(fu, failed))
                futures.append(fut)
                number += 1
                del chunk
            parts = kept + [fut.result() for fut in futures]
            _check_digest(hasher.hexdigest(), digest, path)
            try:
                self._conditional_put(
                    what,
                    op="complete_multipart_upload",
                    Key=full,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                    IfNoneMatch="*",
                )
            except PreconditionFailed:
                self._abort(full, upload_id)
                return False
        except BaseException:
            for fut in futures:
                fut.cancel()
            wait(futures)
            self._abort(full, upload_id)
            raise
        return True

    def _resumable_upload(
        self, full: str, what: str, fd: int, part_size: int, checksum: bool, hasher: Any, progress: Progress | None
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """An unfinished multipart upload of this object that a killed push
        left (the newest, if several), and its parts from part 1 on that hold
        exactly the file's bytes (same size, ETag = MD5 of the bytes read
        here now), each fed to ``hasher``. The upload then continues after
        them; parts past the first that differs are uploaded again. The store
        itself records the upload, so any later push of the same object, from
        any work tree, finds it. (None, []) if there is none."""
        import hashlib

        from botocore.exceptions import BotoCoreError, ClientError

        try:
            resp = self._call("list_multipart_uploads", what, Prefix=full)
            uploads = [u for u in resp.get("Uploads", ()) if u["Key"] == full]
            if not uploads:
                return None, []
            upload_id = max(uploads, key=lambda u: u["Initiated"])["UploadId"]
            listed: dict[int, dict[str, Any]] = {}
            kwargs: dict[str, Any] = {}
            while True:
                page = self._call("list_parts", what, Key=full, UploadId=upload_id, **kwargs)
                listed.update((p["PartNumber"], p) for p in page.get("Parts", ()))
                if not page.get("IsTruncated"):
                    break
                kwargs["PartNumberMarker"] = page["NextPartNumberMarker"]
        except (RemoteError, NotFound, BotoCoreError, ClientError):
            # Listing uploads is a convenience: without it, start afresh.
            return None, []
        kept: list[dict[str, Any]] = []
        while (part := listed.get(len(kept) + 1)) is not None:
            chunk = os.pread(fd, part_size, len(kept) * part_size)
            if len(chunk) != part["Size"] or hashlib.md5(chunk, usedforsecurity=False).hexdigest() != part["ETag"].strip('"'):
                break
            hasher.update(chunk)
            if progress:
                progress(len(chunk))
            entry = {"PartNumber": part["PartNumber"], "ETag": part["ETag"]}
            if checksum:
                # Not every store lists it; it is the CRC32 of these very bytes.
                entry["ChecksumCRC32"] = part.get("ChecksumCRC32") or base64.b64encode(
                    zlib.crc32(chunk).to_bytes(4, "big")
                ).decode()
            kept.append(entry)
        return upload_id, kept

    def _upload_part(
        self, full: str, what: str, upload_id: str, number: int, chunk: bytes, progress: Progress | None
    ) -> dict[str, Any]:
        try:
            resp = self._call(
                "upload_part", what, Key=full, UploadId=upload_id, PartNumber=number, Body=chunk
            )
        finally:
            self._buffers.release()
        if progress:
            progress(len(chunk))
        part = {"PartNumber": number, "ETag": resp["ETag"]}
        if "ChecksumCRC32" in resp:
            part["ChecksumCRC32"] = resp["ChecksumCRC32"]
        return part

    def _abort(self, full: str, upload_id: str) -> None:
        # Best effort: an upload left behind is invisible to readers and
        # is reaped by the bucket's lifecycle rule for incomplete uploads.
        from botocore.exceptions import BotoCoreError, ClientError

        with contextlib.suppress(BotoCoreError, ClientError):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)

    # -- downloads ---------------------------------------------------------

    def _download(self, digest: str, tmp: OpenFile, progress: Progress | None, partial: bool) -> str:
        """Write object ``digest`` into ``tmp``; return the BLAKE3 of what was written.

        The first request asks for the first part only: it answers small
        objects whole (the common case) and tells the size of large ones,
        whose other parts are then fetched in parallel. Each range written
        is noted in ``<tmp>.ranges``; a download killed midway leaves both,
        and the next one into the same ``partial`` file fetches only the
        ranges not noted. The whole file is hashed at the end either way;
        should a continued file not hash to its id (its bytes were changed,
        or the record is wrong), it is fetched again whole, once.
        """
        what = f"object {digest}"
        full = self.s3_key(object_key(digest))
        first, size = self._retry_reads(what, lambda: self._get_first_part(full, what))
        if progress:
            progress(len(first))
        if size <= len(first):
            os.ftruncate(tmp.fileno(), 0)
            pwrite_all(tmp.fileno(), first, 0)
            return hash_bytes(first)
        pwrite_all(tmp.fileno(), first, 0)
        del first
        record = tmp.name + PARTIAL_RANGES_SUFFIX
        header = f"{size} {self.part_size}\n"
        done = _recorded_ranges(record, header) if partial else set()
        starts = list(range(self.part_size, size, self.part_size))
        rest = [start for start in starts if start not in done]
        actual = self._fetch_ranges(full, what, tmp, size, rest, record, header, progress, keep=bool(done))
        if actual != digest and done:
            actual = self._fetch_ranges(full, what, tmp, size, starts, record, header, progress, keep=False)
        return actual

    def _fetch_ranges(
        self,
        full: str,
        what: str,
        tmp: OpenFile,
        size: int,
        starts: list[int],
        record: str,
        header: str,
        progress: Progress | None,
        keep: bool,
    ) -> str:
        """Fetch the ranges at ``starts`` into ``tmp`` in parallel, noting
        each in ``record`` once written (``keep``: after the ranges a
        killed download noted there); the BLAKE3 of the whole file after."""
        os.ftruncate(tmp.fileno(), size)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | (0 if keep else os.O_TRUNC)
        log = os.open(record, flags, 0o666)
        lock = threading.Lock()
        try:
            if not keep:
                write_all(log, header.encode())

            def fetch(start: int) -> None:
                end = min(start + self.part_size, size)
                self._retry_reads(what, lambda: self._get_range(full, what, tmp.fileno(), start, end, progress))
                with lock:
                    write_all(log, f"{start}\n".encode())
                failpoint.hit("download-range")

            self._map(fetch, starts)
        finally:
            os.close(log)
        return hash_file(tmp.name)

    def _get_first_part(self, full: str, what: str) -> tuple[bytes, int]:
        """The first ``part_size`` bytes of an object, and its total size."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            resp = self.client.get_object(
                Bucket=self.bucket, Key=full, Range=f"bytes=0-{self.part_size - 1}"
            )
        except ClientError as e:
            # An empty object has no byte 0 to start a range at.
            if _code(e) != "InvalidRange":
                raise self._translate(e, what) from e
            resp = self._call("get_object", what, Key=full)
        except BotoCoreError as e:
            raise self._translate(e, what) from e
        data = resp["Body"].read()
        # A server that ignores Range sends the whole object and no Content-Range.
        content_range = resp.get("ContentRange")
        size = int(content_range.rpartition("/")[2]) if content_range else len(data)
        return data, size

    def _get_range(
        self, full: str, what: str, fd: int, start: int, end: int, progress: Progress | None
    ) -> None:
        resp = self._call("get_object", what, Key=full, Range=f"bytes={start}-{end - 1}")
        offset = start
        for chunk in resp["Body"].iter_chunks(1 << 20):
            pwrite_all(fd, chunk, offset)
            offset += len(chunk)
            if progress:
                progress(len(chunk))
        if offset != end:
            raise RemoteError(
                f"remote {self.url}: {what}: got {offset - start} bytes of range {start}-{end - 1}"
            )

    # -- requests ----------------------------------------------------------

    def s3_key(self, key: str) -> str:
        """The full S3 key that holds ``key``."""
        return self._base + key

    def _call(self, op: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """One S3 request (retried by botocore); failures become AmaErrors."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, op)(Bucket=self.bucket, **kwargs)
        except (ClientError, BotoCoreError) as e:
            raise self._translate(e, what) from e

    def _conditional_put(self, what: str, op: str = "put_object", **kwargs: Any) -> dict[str, Any]:
        # S3 answers 409 ConditionalRequestConflict while another conditional
        # write to the same key is in flight, and asks the client to retry;
        # botocore does not, so we do.
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._call(op, what, **kwargs)
            except PreconditionFailed:
                raise
            except Conflict:
                if attempt == self.max_attempts:
                    raise
                _sleep_backoff(attempt)
        raise AssertionError("unreachable")

    def _retry_reads(self, what: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` again when a response body breaks off mid-read.

        botocore retries requests, not the reading of a streamed body.
        """
        from botocore.exceptions import (
            IncompleteReadError,
            ReadTimeoutError,
            ResponseStreamingError,
        )

        for n in range(1, self.max_attempts + 1):
            try:
                return attempt()
            except (ResponseStreamingError, ReadTimeoutError, IncompleteReadError) as e:
                if n == self.max_attempts:
                    raise self._translate(e, what) from e
                _sleep_backoff(n)
        raise AssertionError("unreachable")

    def _etag_if_holds(self, key: str, data: bytes) -> str | None:
        """The key's ETag if it holds exactly ``data``, else None.

        A conditional write whose response was lost is retried by botocore
        and then fails its own condition; if the key holds our bytes, the
        first attempt did land.
        """
        try:
            current, etag = self.get_versioned(key)
        except NotFound:
            return None
        return etag if current == data else None

    def _head_objects(self, digests: list[str]) -> set[str]:
        keys = [object_key(d) for d in digests]
        present = self._map(self.exists, keys)
        return {d for d, yes in zip(digests, present, strict=True) if yes}

    def _list_merge(self, wanted: list[str]) -> tuple[set[str], list[str]]:
        """Settle a sorted run of digests with LIST pages; return (present, unsettled)."""
        found: set[str] = set()
        i = 0
        strip = len(self._base)
        while i < len(wanted):
            first = self.s3_key(object_key(wanted[i]))
            # StartAfter is exclusive; a strict prefix of the key sorts
            # just before it.
            resp = self._call(
                "list_objects_v2",
                "objects/",
                Prefix=self.s3_key("objects/"),
                StartAfter=first[:-1],
                MaxKeys=_LIST_PAGE,
            )
            page = [obj["Key"][strip:] for obj in resp.get("Contents", ())]
            truncated = resp.get("IsTruncated", False)
            if truncated and not page:
                break
            last = page[-1] if truncated else None
            keys = set(page)
            start = i
            while i < len(wanted):
                key = object_key(wanted[i])
                if last is not None and key > last:
                    break
                if key in keys:
                    found.add(wanted[i])
                i += 1
            if i - start < _HEAD_BATCH:
                break
        return found, wanted[i:]

    def _map(self, fn: Callable[[Any], T], items: list[Any]) -> list[T]:
        """``fn`` over ``items`` on the shared pool; the first failure cancels the rest."""
        if len(items) <= 1:
            return [fn(item) for item in items]
        futures = [self._pool.submit(fn, item) for item in items]
        wait(futures, return_when=FIRST_EXCEPTION)
        for fut in futures:
            if fut.done() and fut.exception() is not None:
                for other in futures:
                    other.cancel()
                wait(futures)
                raise fut.exception()  # type: ignore[misc]
        return [fut.result() for fut in futures]

    def _translate(self, e: Exception, what: str) -> AmaError:
        """The one line a user sees for a botocore failure."""
        from botocore.exceptions import (
            ClientError,
            ConnectionError,
            CredentialRetrievalError,
            HTTPClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        where = f"remote {self.url}"
        if isinstance(e, ClientError):
            code = _code(e)
            meta = e.response.get("ResponseMetadata", {})
            status = meta.get("HTTPStatusCode")
            attempts = meta.get("RetryAttempts", 0) + 1
            if code in ("NoSuchKey", "404", "NotFound"):
                return NotFound(f"{where}: {what} not found")
            if code == "NoSuchBucket":
                return RemoteError(
                    f"{where}: bucket {self.bucket} does not exist at {self.endpoint_url}"
                )
            if code == "NoSuchUpload":
                return RemoteError(f"{where}: upload of {what} was aborted by the server; push again")
            if status == 412 or code == "PreconditionFailed":
                return PreconditionFailed(f"{where}: {what}: a write condition did not hold")
            if status == 409 and code == "ConditionalRequestConflict":
                return Conflict(f"{where}: {what} is being written by another client; try again")
            if code in _ACCESS_CODES or status == 403:
                return RemoteError(
                    f"{where}: access denied to {what} ({code}); check the credentials and bucket policy"
                )
            message = " ".join(str(e.response.get("Error", {}).get("Message", "")).split())
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            return RemoteError(
                f"{where}: {what} failed{tries}: {code or 'error'} (HTTP {status})"
                + (f": {message}" if message else "")
            )
        if isinstance(e, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
            return RemoteError(
                f"{where}: no usable AWS credentials ({_one_line(e)}); "
                "set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            )
        if isinstance(e, ConnectionError | HTTPClientError):
            return RemoteError(
                f"{where}: cannot reach endpoint {self.endpoint_url} ({self._reason(e)}) "
                f"after {self.max_attempts} attempts"
            )
        return RemoteError(f"{where}: {what} failed: {_one_line(e)}")

    def _reason(self, e: Exception) -> str:
        from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError, SSLError

        # The cause (refused, DNS, reset) is in the wrapped urllib3 error.
        text = f"{e} {getattr(e, 'kwargs', {}).get('error', '')}".lower()
        if isinstance(e, ConnectTimeoutError):
            return f"no connection within {self.connect_timeout:g}s"
        if isinstance(e, ReadTimeoutError):
            return f"no answer within {self.read_timeout:g}s"
        if isinstance(e, SSLError):
            return "TLS handshake failed"
        if "connection refused" in text:
            return "connection refused"
        if "name or service not known" in text or "name resolution" in text or "nodename" in text:
            return "unknown host"
        if "reset by peer" in text or "connection closed" in text or "connectionclosed" in text:
            return "connection dropped"
        return _one_line(e)


_loader_lock = threading.Lock()
_loader: Any = None


def _shared_loader() -> Any:
    """One botocore data loader per process.

    Every session loads and parses the S3 service model (~0.2 s) unless
    its loader already holds it; sharing one makes every remote after the
    first cheap to open. Sessions stay separate (they are not thread-safe
    and carry the profile).
    """
    global _loader
    with _loader_lock:
        if _loader is None:
            import botocore.loaders

            _loader = botocore.loaders.create_loader()
        return _loader


def _code(e: Any) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _missing_profile(profile: str | None) -> str:
    """Which AWS profile was not found, and where the name came from."""
    if profile:
        name, source = profile, ""
    else:
        source = "AWS_PROFILE" if os.environ.get("AWS_PROFILE") else "AWS_DEFAULT_PROFILE"
        name, source = os.environ.get(source, ""), f" (from {source})"
    files = os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    return f"AWS profile {name!r}{source} not found in {files} or the credentials file"


def _unquoted(etag: str) -> str:
    return etag[1:-1] if len(etag) >= 2 and etag[0] == etag[-1] == '"' else etag


def _was_retried(e: BaseException) -> bool:
    cause = e.__cause__
    response = getattr(cause, "response", None) or {}
    return response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0


def _discard_download(tmp: OpenFile) -> None:
    discard_temp(tmp)
    unlink_quietly(tmp.name + PARTIAL_RANGES_SUFFIX)


def _recorded_ranges(record: str, header: str) -> set[int]:
    """The range offsets a killed download noted in ``record``, if it was of
    an object of this size in parts of this size; a torn last line is
    ignored."""
    try:
        with open(record, encoding="ascii", errors="replace") as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return set()
    if lines[0] + "\n" != header:
        return set()
    return {int(line) for line in lines[1:-1] if line.isdigit()}


def _check_digest(actual: str, digest: str, path: str) -> None:
    if actual != digest:
        raise IntegrityError(
            f"{path}: content changed since it was added "
            f"(hashes to {short(actual)}, expected {short(digest)}); add it again"
        )


def _flag_failure(fut: Future[Any], failed: threading.Event) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        failed.set()


def _sleep_backoff(attempt: int) -> None:
    # The same shape as botocore's standard mode for non-throttling errors.
    time.sleep(random.random() * min(0.05 * 2**attempt, 5.0))


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _env_number(name: str, kind: Callable[[str], T], default: T) -> T:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value <= 0:  # type: ignore[operator]
        raise UsageError(f"{name}={raw!r} is not a positive number")
    return value

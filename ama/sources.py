"""Contents that stay where they are: references to ``s3://`` and ``http(s)://`` bytes.

A *reference* records where bytes live and everything that lets ama recognise
them again: the URL, the object version (versioned S3 buckets), the ETag, the
size, Last-Modified, the checksums the store reports, and the BLAKE3 id when
it is known. It is stored as a small object (``ama-ref 1`` + canonical JSON),
so a tree that names a reference by its id covers exactly what was
referenced, as it covers a file's bytes.

Bytes fetched for a reference are verified against the strongest check the
reference has (BLAKE3, then a full-object checksum of the store, then a
single-part ETag, which is an MD5) before anyone sees them; a source that
changed is an error naming what changed, never different bytes. The model
and the integrity ladder are in ``docs/references.md``.

boto3 is imported only when an ``s3://`` source is used.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import zlib
from collections.abc import Iterator
from urllib.parse import urlsplit

from .errors import Corrupt, IntegrityError, NotFound, RemoteError, UsageError
from .objects import HEX64, REF_MAGIC

FORMAT = 1
CHUNK = 1 << 20
SCHEMES = ("s3://", "http://", "https://")
_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")
# Full-object checksums S3 may report, strongest first, with how to compute
# them locally. CRC32C and CRC64NVME need code the standard library lacks.
_S3_CHECKSUMS = ("sha256", "sha1", "crc32")
_FIELDS = ("url", "size", "etag", "version_id", "last_modified", "checksums", "blake3")


def is_source_url(text: str) -> bool:
    return text.startswith(SCHEMES)


class Reference:
    """What was recorded about one referenced object."""

    __slots__ = _FIELDS

    def __init__(
        self,
        url: str,
        size: int,
        etag: str | None = None,
        version_id: str | None = None,
        last_modified: str | None = None,
        checksums: dict[str, str] | None = None,
        blake3: str | None = None,
    ):
        self.url = url
        self.size = size
        self.etag = etag
        self.version_id = version_id
        self.last_modified = last_modified
        self.checksums = checksums or {}
        self.blake3 = blake3

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reference) and self.serialize() == other.serialize()

    def __repr__(self) -> str:
        return f"Reference({self.url!r}, size={self.size}, etag={self.etag!r}, version_id={self.version_id!r})"

    def to_dict(self) -> dict[str, object]:
        record: dict[str, object] = {"format": FORMAT}
        for name in _FIELDS:
            value = getattr(self, name)
            if value not in (None, {}):
                record[name] = value
        return record

    def serialize(self) -> bytes:
        """The canonical bytes of the reference object (equal fields, equal id)."""
        return REF_MAGIC + json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def parse(cls, data: bytes, digest: str = "?") -> Reference:
        if not data.startswith(REF_MAGIC):
            raise Corrupt(f"object {digest} is not a reference")
        try:
            record = json.loads(data[len(REF_MAGIC) :])
        except (UnicodeDecodeError, ValueError):
            raise Corrupt(f"reference {digest} is not valid JSON") from None
        if not isinstance(record, dict):
            raise Corrupt(f"reference {digest} is malformed")
        if record.get("format") != FORMAT:
            raise Corrupt(f"reference {digest} has format {record.get('format')!r}; this ama reads format {FORMAT}")
        url, size = record.get("url"), record.get("size")
        if not isinstance(url, str) or not is_source_url(url):
            raise Corrupt(f"reference {digest} has no valid url")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise Corrupt(f"reference {digest} has no valid size")
        for name in ("etag", "version_id", "last_modified"):
            if not isinstance(record.get(name, ""), str):
                raise Corrupt(f"reference {digest}: {name} is not a string")
        checksums = record.get("checksums", {})
        if not isinstance(checksums, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in checksums.items()
        ):
            raise Corrupt(f"reference {digest}: checksums is malformed")
        blake3 = record.get("blake3")
        if blake3 is not None and (not isinstance(blake3, str) or not HEX64.match(blake3)):
            raise Corrupt(f"reference {digest}: blake3 is not a content id")
        unknown = set(record) - {"format", *_FIELDS}
        if unknown:
            raise Corrupt(f"reference {digest} has fields this ama does not know: {', '.join(sorted(unknown))}")
        return cls(
            url,
            size,
            record.get("etag"),
            record.get("version_id"),
            record.get("last_modified"),
            checksums,
            blake3,
        )

    @property
    def strongest_check(self) -> str:
        """The check fetched bytes are verified with (docs/references.md)."""
        if self.blake3:
            return "blake3"
        for name in _S3_CHECKSUMS:
            if name in self.checksums:
                return name
        if self.url.startswith("s3://") and self.etag and _MD5_ETAG.match(self.etag):
            return "md5-etag"
        return "size"

    @property
    def versioned(self) -> bool:
        """Whether the old bytes can be asked for after the source changes."""
        return bool(self.version_id) and self.version_id != "null"


# -- finding out what is at a URL -------------------------------------------


def probe(url: str) -> Reference:
    """Record what is at ``url`` now, without reading its bytes."""
    if url.startswith("s3://"):
        return _S3(url).head()
    if url.startswith(("http://", "https://")):
        return _Http(url).head()
    raise UsageError(f"{url}: not an s3://, http:// or https:// URL")


def list_prefix(url: str) -> Iterator[tuple[str, str]]:
    """For ``s3://bucket/prefix/``: (path below the prefix, URL) of every object."""
    return _S3(url).list_below()


def check(ref: Reference) -> str | None:
    """None if the source still holds the recorded bytes (as far as a HEAD
    can tell), else what changed: ``missing`` or ``changed (...)``."""
    try:
        now = probe_pinned(ref)
    except NotFound:
        return "missing"
    return _difference(ref, now)


def probe_pinned(ref: Reference) -> Reference:
    """What is at the reference's URL (at its recorded version, if any)."""
    if ref.url.startswith("s3://"):
        return _S3(ref.url).head(ref.version_id if ref.versioned else None)
    return _Http(ref.url).head()


def _difference(ref: Reference, now: Reference) -> str | None:
    if ref.size != now.size:
        return f"changed (size {ref.size} -> {now.size})"
    if ref.etag and now.etag and ref.etag != now.etag:
        return f"changed (ETag {ref.etag} -> {now.etag})"
    for name, value in ref.checksums.items():
        if name in now.checksums and now.checksums[name] != value:
            return f"changed ({name} checksum)"
    if not ref.etag and ref.last_modified and now.last_modified and ref.last_modified != now.last_modified:
        return f"changed (Last-Modified {ref.last_modified} -> {now.last_modified})"
    return None


def hash_source(ref: Reference) -> str:
    """Read the referenced bytes once and return their BLAKE3 id (nothing kept)."""
    digest, _ = _stream_verified(ref, None)
    return digest


def fetch(ref: Reference, dest_fd: int) -> str:
    """Write the referenced bytes to ``dest_fd``, verified; return their BLAKE3 id.

    Raises ``IntegrityError`` (naming what changed) if the source no longer
    holds the recorded bytes; the caller discards what was written.
    """
    digest, _ = _stream_verified(ref, dest_fd)
    return digest


def _stream_verified(ref: Reference, dest_fd: int | None) -> tuple[str, int]:
    from blake3 import blake3

    from .fsutil import write_all

    check_name = ref.strongest_check
    b3 = blake3(max_threads=blake3.AUTO if ref.size >= 64 << 20 else 1)
    other = _hasher(check_name)
    total = 0
    for chunk in _open(ref):
        total += len(chunk)
        if total > ref.size:
            raise IntegrityError(f"{ref.url}: source changed (more than the recorded {ref.size} bytes)")
        b3.update(chunk)
        if other is not None:
            other.update(chunk)
        if dest_fd is not None:
            write_all(dest_fd, chunk)
    if total != ref.size:
        raise IntegrityError(f"{ref.url}: source changed (got {total} bytes, recorded {ref.size})")
    digest = b3.hexdigest()
    if ref.blake3 and digest != ref.blake3:
        raise IntegrityError(f"{ref.url}: source changed (its bytes hash to {digest[:12]}, recorded {ref.blake3[:12]})")
    if other is not None:
        expected = ref.etag if check_name == "md5-etag" else ref.checksums[check_name]
        if other.value() != expected:
            raise IntegrityError(f"{ref.url}: source changed (its {check_name} differs from the one recorded)")
    return digest, total


class _Hasher:
    def __init__(self, name: str):
        self.name = name
        self.crc = 0
        self.h = None if name == "crc32" else hashlib.new("md5" if name == "md5-etag" else name)

    def update(self, chunk: bytes) -> None:
        if self.h is None:
            self.crc = zlib.crc32(chunk, self.crc)
        else:
            self.h.update(chunk)

    def value(self) -> str:
        if self.h is None:
            return base64.b64encode(self.crc.to_bytes(4, "big")).decode()
        if self.name == "md5-etag":
            return self.h.hexdigest()
        return base64.b64encode(self.h.digest()).decode()


def _hasher(name: str) -> _Hasher | None:
    return None if name in ("blake3", "size") else _Hasher(name)


def _open(ref: Reference) -> Iterator[bytes]:
    if ref.url.startswith("s3://"):
        return _S3(ref.url).read(ref)
    return _Http(ref.url).read(ref)


# -- S3 ----------------------------------------------------------------------

_clients: dict[str, object] = {}


class _S3:
    """One object (or prefix) of a source bucket, through the same client
    conventions as an S3 remote (boto3's chain, ``AWS_ENDPOINT_URL_S3``,
    ``AMA_S3_*`` knobs)."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if not parts.netloc:
            raise UsageError(f"{url}: not of the form s3://bucket/key")
        self.url = url
        self.bucket = parts.netloc
        self.key = parts.path.lstrip("/")
        self.remote = self._remote(self.bucket)

    @staticmethod
    def _remote(bucket: str):  # -> S3Remote
        remote = _clients.get(bucket)
        if remote is None:
            from .remote.s3 import S3Remote

            remote = _clients[bucket] = S3Remote(f"s3://{bucket}")
        return remote

    def _call(self, op: str, **kwargs):
        from .remote.s3 import _code

        remote = self.remote
        try:
            return getattr(remote.client, op)(Bucket=self.bucket, **kwargs)
        except Exception as e:  # noqa: BLE001 - translated below, re-raised otherwise
            response = getattr(e, "response", None)
            if response is not None:
                code = _code(e)
                status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if code in ("404", "NoSuchKey", "NoSuchVersion", "NotFound") or status == 404:
                    raise NotFound(f"{self.url}: no such object") from None
                if code in ("412", "PreconditionFailed") or status == 412:
                    raise IntegrityError(f"{self.url}: source changed (its ETag is no longer the recorded one)") from None
            raise remote._translate(e, self.url) from None

    def head(self, version_id: str | None = None) -> Reference:
        if not self.key or self.key.endswith("/"):
            raise UsageError(f"{self.url}: names a prefix, not an object")
        kwargs = {"Key": self.key, "ChecksumMode": "ENABLED"}
        if version_id:
            kwargs["VersionId"] = version_id
        h = self._call("head_object", **kwargs)
        checksums = {}
        for name in _S3_CHECKSUMS:
            value = h.get(f"Checksum{name.upper()}")
            # A composite checksum of a multipart upload ("...-3") is not a
            # checksum of the bytes; it cannot be checked by reading them.
            if value and "-" not in value and h.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT":
                checksums[name] = value
        modified = h.get("LastModified")
        return Reference(
            self.url,
            int(h["ContentLength"]),
            etag=(h.get("ETag") or "").strip('"') or None,
            version_id=h.get("VersionId") or None,
            last_modified=modified.isoformat() if modified is not None else None,
            checksums=checksums,
        )

    def list_below(self) -> Iterator[tuple[str, str]]:
        prefix = self.key if not self.key or self.key.endswith("/") else self.key + "/"
        paginator = self.remote.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    if not key.endswith("/"):
                        yield key[len(prefix) :], f"s3://{self.bucket}/{key}"
        except Exception as e:  # noqa: BLE001
            raise self.remote._translate(e, self.url) from None

    def read(self, ref: Reference) -> Iterator[bytes]:
        kwargs = {"Key": self.key}
        if ref.versioned:
            kwargs["VersionId"] = ref.version_id
        if ref.etag:
            kwargs["IfMatch"] = f'"{ref.etag}"'
        response = self._call("get_object", **kwargs)
        body = response["Body"]
        try:
            while chunk := body.read(CHUNK):
                yield chunk
        finally:
            body.close()


# -- HTTP --------------------------------------------------------------------


def _timeout() -> float:
    raw = os.environ.get("AMA_HTTP_TIMEOUT", "30")
    try:
        return float(raw)
    except ValueError:
        raise UsageError(f"AMA_HTTP_TIMEOUT={raw!r} is not a number") from None


class _Http:
    def __init__(self, url: str):
        self.url = url

    def _request(self, method: str, headers: dict[str, str] | None = None):
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.url, method=method, headers=headers or {})
        try:
            return urllib.request.urlopen(request, timeout=_timeout())
        except urllib.error.HTTPError as e:
            if e.code in (404, 410):
                raise NotFound(f"{self.url}: no such object (HTTP {e.code})") from None
            if e.code == 412:
                raise IntegrityError(f"{self.url}: source changed (its ETag is no longer the recorded one)") from None
            raise RemoteError(f"{self.url}: HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise RemoteError(f"{self.url}: cannot reach the server ({reason})") from None

    def head(self) -> Reference:
        with self._request("HEAD") as response:
            headers = response.headers
        length = headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise RemoteError(f"{self.url}: the server does not say the size (no Content-Length)")
        etag = headers.get("ETag")
        # A weak ETag says "equivalent", not "the same bytes": not recorded.
        if etag and etag.startswith("W/"):
            etag = None
        return Reference(
            self.url,
            int(length),
            etag=etag.strip('"') if etag else None,
            last_modified=headers.get("Last-Modified"),
        )

    def read(self, ref: Reference) -> Iterator[bytes]:
        headers = {"Accept-Encoding": "identity"}
        if ref.etag:
            headers["If-Match"] = f'"{ref.etag}"'
        response = self._request("GET", headers)
        with response:
            served = response.headers
            length = served.get("Content-Length")
            if length is not None and length.isdigit() and int(length) != ref.size:
                raise IntegrityError(f"{self.url}: source changed (size {ref.size} -> {length})")
            etag = served.get("ETag")
            if ref.etag and etag and etag.strip('"') != ref.etag:
                raise IntegrityError(f"{self.url}: source changed (ETag {ref.etag} -> {etag.strip(chr(34))})")
            if not ref.etag and ref.last_modified and served.get("Last-Modified") not in (None, ref.last_modified):
                raise IntegrityError(
                    f"{self.url}: source changed (Last-Modified {ref.last_modified} -> {served.get('Last-Modified')})"
                )
            import http.client

            try:
                while chunk := response.read(CHUNK):
                    yield chunk
            except http.client.IncompleteRead as e:
                raise IntegrityError(f"{self.url}: the server sent fewer bytes than it announced ({e})") from None

"""A remote that is a directory, on a local disk or a shared mount.

Records and objects are published with the same two moves, so that a reader
never sees a partial file and a crash never leaves one under a real name:

- create-if-absent: write a temp file in the target's directory, fsync it,
  then ``os.link`` it to the final name. ``link`` fails with EEXIST
  atomically, which is exactly "only if absent", and the name appears with
  its full contents at once.
- compare-and-swap: take ``<key>.lock`` (``ama.fsutil.Lock``: an flock the
  kernel releases if the writer dies), re-read the key,
  compare its token (the BLAKE3 of its bytes), write a temp file, fsync,
  rename it over the key, drop the lock.

Objects are always copied in, never hardlinked from the caller's file: the
remote must not share an inode with a work tree, where an in-place edit
would silently change a stored object. See ``docs/remote-layout.md``.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from ama import failpoint, fsutil
from ama.errors import (
    AlreadyExists,
    Corrupt,
    IntegrityError,
    NotFound,
    PreconditionFailed,
    RemoteError,
    UsageError,
)
from ama.hashing import describe_mode, hash_bytes
from ama.remote._files import (
    OpenFile,
    commit_temp,
    discard_temp,
    new_temp,
    open_source,
    read_all,
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

LOCK_SUFFIX = ".lock"
# Where temp files are written (skipped by list(), like every ``.ama-tmp`` name).
TEMP_DIR = ".ama-tmp"

# Errors of link(2) on filesystems that have no hard links (vfat, some
# FUSE and SMB mounts): publish under the key's lock instead.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}

# copy_file_range(2) errors that mean "not between these two files", not
# "the copy failed": fall back to read/write.
_NO_COPY_RANGE = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP}

# Large copies go in chunks this size: a killed upload leaves a partial
# temporary file that is whole up to a chunk boundary, or close to one.
_COPY_CHUNK = 16 << 20
_READ_CHUNK = 1 << 20
_OBJECT_MODE = 0o444


def token_of(data: bytes) -> str:
    """The compare-and-swap token of a record on a directory remote."""
    return hash_bytes(data)


class LocalRemote(Remote):
    """A directory remote. The directory is created on the first write.

    ``lock_timeout``: how long a compare-and-swap waits for another writer's
    lock on the same key; by default ``AMA_LOCK_TIMEOUT``, like every other
    lock of ama.
    """

    def __init__(self, path: str, *, lock_timeout: float | None = None):
        self.root = os.path.abspath(path)
        self.url = self.root
        self.lock_timeout = fsutil.LOCK_WAIT_SECONDS if lock_timeout is None else lock_timeout
        # Every temp file of this remote is written here, then linked or
        # renamed to its key: one directory to clean after a crash.
        self.temp_dir = os.path.join(self.root, TEMP_DIR)
        self._temps_swept = False
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise UsageError(f"remote {self.url}: exists and is not a directory")

    def path_of(self, key: str) -> str:
        """The file that holds ``key``."""
        parts = key.split("/")
        if (
            not key
            or "\0" in key
            or any(p in ("", ".", "..") for p in parts)
            or any(fsutil.is_temp_name(p) or p.endswith(LOCK_SUFFIX) for p in parts)
        ):
            raise UsageError(f"remote {self.url}: invalid key {key!r}")
        return os.path.join(self.root, *parts)

    # -- records -----------------------------------------------------------

    def get(self, key: str) -> bytes:
        try:
            fd = self._open_regular(key)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"remote {self.url}: {key} not found") from None
        except OSError as e:
            raise self._error("read", key, e) from e
        try:
            with os.fdopen(fd, "rb") as f:
                return f.read()
        except OSError as e:
            raise self._error("read", key, e) from e

    def _open_regular(self, key: str) -> int:
        """Open ``key``'s file for reading; Corrupt if it is not a regular
        file. O_NONBLOCK: a FIFO put in its place must not hang the open."""
        fd = os.open(self.path_of(key), os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise Corrupt(f"remote {self.url}: {key} {describe_mode(st.st_mode)}, not a file; the remote is damaged")
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        data = self.get(key)
        return data, token_of(data)

    def exists(self, key: str) -> bool:
        return os.path.isfile(self.path_of(key))

    def create(self, key: str, data: bytes) -> str:
        path = self.path_of(key)
        try:
            tmp = self._write_temp(os.path.dirname(path), data, 0o666)
            try:
                created = self._publish_new(tmp, path)
            finally:
                unlink_quietly(tmp)
            if created:
                fsutil.fsync_dir(os.path.dirname(path))
        except OSError as e:
            raise self._error("write", key, e) from e
        if not created:
            raise AlreadyExists(f"remote {self.url}: {key} already exists")
        return token_of(data)

    def replace(self, key: str, data: bytes, token: str) -> str:
        path = self.path_of(key)
        with self._locked(path):
            current = self.get(key)
            if token_of(current) != token:
                raise PreconditionFailed(
                    f"remote {self.url}: {key} was changed by someone else since it was read"
                )
            try:
                tmp = self._write_temp(os.path.dirname(path), data, 0o666)
                try:
                    os.replace(tmp, path)
                except BaseException:
                    unlink_quietly(tmp)
                    raise
                fsutil.fsync_dir(os.path.dirname(path))
            except OSError as e:
                raise self._error("write", key, e) from e
        return token_of(data)

    def list(self, prefix: str) -> Iterator[str]:
        # Keys are matched as strings, like an S3 prefix: "assets/x/1" also
        # lists "assets/x/12/...". Only the last component needs filtering.
        head, _, tail = prefix.rpartition("/")
        base = os.path.join(self.root, *head.split("/")) if head else self.root
        yield from self._walk(base, head, tail)

    def delete(self, key: str) -> None:
        path = self.path_of(key)
        # Under the lock so that a concurrent replace() cannot resurrect it.
        with self._locked(path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                raise self._error("delete", key, e) from e

    # -- objects -----------------------------------------------------------

    def has_objects(self, digests: Iterable[str]) -> set[str]:
        # One stat per digest: microseconds each, cheaper than reading whole
        # objects/<hh>/ directories unless the remote is tiny.
        return {d for d in set(digests) if os.path.isfile(self.path_of(object_key(d)))}

    def put_object(self, digest: str, path: str, progress: Progress | None = None) -> bool:
        if os.path.isfile(self.path_of(object_key(digest))):
            return False
        return self._publish_copy(digest, path, progress, self._publish_new)

    def replace_object(self, digest: str, path: str, progress: Progress | None = None) -> None:
        def replace(tmp: str, final: str) -> bool:
            # Under the key's lock, as every other replacement of a name.
            with self._locked(final):
                os.replace(tmp, final)
            return True

        self._publish_copy(digest, path, progress, replace)

    def _publish_copy(
        self, digest: str, path: str, progress: Progress | None, publish: Callable[[str, str], bool]
    ) -> bool:
        """Copy ``path`` to a temp file beside object ``digest``, verify the
        copy's hash, fsync it and ``publish(tmp, final)``."""
        key = object_key(digest)
        final = self.path_of(key)
        directory = os.path.dirname(final)
        with open_source(path) as src:
            try:
                os.makedirs(directory, exist_ok=True)
                if os.fstat(src.fileno()).st_size < SMALL_OBJECT:
                    tmp = self._new_temp(_OBJECT_MODE)
                else:
                    os.makedirs(self.temp_dir, exist_ok=True)
                    tmp = _resumable_temp(self.temp_dir, digest, src)
                try:
                    actual = _copy_hashed(src, tmp, progress)
                    if actual != digest:
                        raise IntegrityError(
                            f"{path}: content changed since it was added "
                            f"(hashes to {short(actual)}, expected {short(digest)}); add it again"
                        )
                    os.fchmod(tmp.fileno(), _OBJECT_MODE)
                    os.fsync(tmp.fileno())
                    failpoint.hit("remote-object-copied")
                    created = publish(tmp.name, final)
                finally:
                    discard_temp(tmp)
                if created:
                    fsutil.fsync_dir(directory)
            except OSError as e:
                raise self._error("write", key, e) from e
        return created

    def get_object(
        self, digest: str, dest: str, progress: Progress | None = None, mode: int | None = None
    ) -> None:
        key = object_key(digest)
        try:
            src = OpenFile(self._open_regular(key), key)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"remote {self.url}: object {digest} not found") from None
        except OSError as e:
            raise self._error("read", key, e) from e
        with src:
            try:
                directory = os.path.dirname(os.path.abspath(dest))
                if os.fstat(src.fileno()).st_size < SMALL_OBJECT:
                    tmp = new_temp(directory)
                else:
                    tmp = _resumable_temp(directory, digest, src)
                try:
                    actual = _copy_hashed(src, tmp, progress)
                    if actual != digest:
                        raise IntegrityError(
                            f"remote {self.url}: object {short(digest)} is corrupt "
                            f"(its bytes hash to {short(actual)}); check the remote with 'ama fsck --remote NAME --full'"
                        )
                except KeyboardInterrupt:
                    # Interrupted, not failed: the next download continues a partial.
                    if fsutil.is_partial_name(os.path.basename(tmp.name)):
                        tmp.close()
                    else:
                        discard_temp(tmp)
                    raise
                except BaseException:
                    discard_temp(tmp)
                    raise
                commit_temp(tmp, dest, mode)
            except OSError as e:
                raise fsutil.cannot_write(dest, e) from e

    def read_object(self, digest: str, start: int = 0) -> Iterator[bytes]:
        key = object_key(digest)
        try:
            fd = self._open_regular(key)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"remote {self.url}: object {digest} not found") from None
        except OSError as e:
            raise self._error("read", key, e) from e
        return self._chunks(fd, key, start)

    def _chunks(self, fd: int, key: str, start: int) -> Iterator[bytes]:
        try:
            offset = start
            while True:
                try:
                    chunk = os.pread(fd, _READ_CHUNK, offset)
                except OSError as e:
                    raise self._error("read", key, e) from e
                if not chunk:
                    return
                offset += len(chunk)
                yield chunk
        finally:
            os.close(fd)

    def object_size(self, digest: str) -> int | None:
        key = object_key(digest)
        try:
            st = os.stat(self.path_of(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise self._error("read", key, e) from e
        return st.st_size

    def hash_object(self, digest: str, progress: Progress | None = None) -> str:
        key = object_key(digest)
        path = self.path_of(key)
        try:
            actual = hash_file(path)
            if progress:
                progress(os.path.getsize(path))
        except FileNotFoundError:
            raise NotFound(f"remote {self.url}: object {digest} not found") from None
        except OSError as e:
            raise self._error("read", key, e) from e
        return actual

    # -- cleaning up ---------------------------------------------------------

    def list_objects(self) -> Iterator[tuple[str, float, int]]:
        base = os.path.join(self.root, "objects")
        try:
            heads = sorted(os.listdir(base))
        except FileNotFoundError:
            return
        for head in heads:
            try:
                entries = sorted(os.scandir(os.path.join(base, head)), key=lambda e: e.name)
            except NotADirectoryError:
                continue
            for entry in entries:
                if len(head) == 2 and len(entry.name) == 62 and entry.is_file(follow_symlinks=False):
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    yield head + entry.name, st.st_mtime, st.st_size

    def leftovers(self) -> Iterator[Leftover]:
        for directory, dirs, files in os.walk(self.root):
            dirs.sort()
            for name in sorted(files):
                if not fsutil.is_temp_name(name):
                    continue
                path = os.path.join(directory, name)
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    continue
                yield Leftover(os.path.relpath(path, self.root), st.st_mtime, st.st_size, path)

    def remove_leftover(self, leftover: Leftover) -> bool:
        path = str(leftover.handle)
        try:
            return fsutil.remove_temp(path)
        except OSError as e:
            raise self._error("delete", leftover.name, e) from e

    # -- internals ---------------------------------------------------------

    def _publish_new(self, tmp: str, final: str) -> bool:
        """Give ``tmp`` the name ``final`` unless ``final`` exists; True if it did."""
        try:
            os.link(tmp, final)
            return True
        except FileExistsError:
            return False
        except OSError as e:
            if e.errno not in _NO_LINKS:
                raise
        with self._locked(final):
            if os.path.lexists(final):
                return False
            os.rename(tmp, final)
            return True

    def _new_temp(self, mode: int) -> OpenFile:
        """A temp file in ``temp_dir``; the first one of this process also
        removes the temp files of writers that are gone (a killed commit's
        can be gigabytes)."""
        if not self._temps_swept:
            os.makedirs(self.temp_dir, exist_ok=True)
            fsutil.remove_stale_temps(self.temp_dir)
            self._temps_swept = True
        try:
            return new_temp(self.temp_dir, mode)
        except FileNotFoundError:
            os.makedirs(self.temp_dir, exist_ok=True)
            return new_temp(self.temp_dir, mode)

    def _write_temp(self, directory: str, data: bytes, mode: int) -> str:
        os.makedirs(directory, exist_ok=True)
        tmp = self._new_temp(mode)
        try:
            with tmp:
                fsutil.write_all(tmp.fileno(), data)
                os.fsync(tmp.fileno())
        except BaseException:
            unlink_quietly(tmp.name)
            raise
        return tmp.name

    @contextmanager
    def _locked(self, path: str) -> Iterator[None]:
        """Hold ``<path>.lock`` (an flock the kernel drops if we die)."""
        lock = fsutil.Lock(path + LOCK_SUFFIX, self.lock_timeout, record_owner=True, what=f"remote {self.url}")
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            lock.acquire()
        except OSError as e:
            raise self._error("lock", os.path.relpath(path, self.root), e) from e
        try:
            yield
        finally:
            lock.release()

    def _walk(self, directory: str, rel: str, name_prefix: str) -> Iterator[str]:
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as e:
            raise self._error("list", rel or ".", e) from e
        for entry in entries:
            name = entry.name
            if not name.startswith(name_prefix):
                continue
            if fsutil.is_temp_name(name) or name.endswith(LOCK_SUFFIX):
                continue
            key = f"{rel}/{name}" if rel else name
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(entry.path, key, "")
            elif entry.is_file(follow_symlinks=False):
                yield key

    def _error(self, action: str, key: str, e: OSError) -> RemoteError:
        return RemoteError(f"remote {self.url}: cannot {action} {key} ({e.strerror or e})")


def _copy_hashed(src: OpenFile, dst: OpenFile, progress: Progress | None) -> str:
    """Copy ``src`` to ``dst``; return the BLAKE3 of the bytes ``dst`` now holds.

    Small files pass through memory, so the hash is of the very buffer that
    is written. Large ones are copied in the kernel (copy_file_range, which
    reflinks where the filesystem can) and the copy is then hashed from its
    own file, which is what a reader of the remote will get.
    """
    size = os.fstat(src.fileno()).st_size
    if size < SMALL_OBJECT:
        data = read_all(src.fileno(), size)
        fsutil.write_all(dst.fileno(), data)
        if progress:
            progress(len(data))
        return hash_bytes(data)
    _copy_large(src.fileno(), dst.fileno(), progress)
    return hash_file(dst.name)


def _resumable_temp(directory: str, digest: str, src: OpenFile) -> OpenFile:
    """The temporary file a copy of the large object ``digest`` (an upload
    into the remote, or a download out of it into ``directory``) writes.

    It has a name of its own, ``.ama-tmp-<first 16 hex of its id>``, held
    under an flock while it is written (``fsutil.open_partial``): a copy
    killed midway leaves it behind, and the next copy of the same object
    continues it after the bytes already there were compared with the
    source (kept up to the first 1 MiB block that differs). If another
    process holds it (copying the same object right now), a fresh random
    name, started from zero.
    """
    tmp, partial = fsutil.open_partial(directory, digest)
    if not partial:
        return tmp
    try:
        kept = _same_prefix(src.fileno(), tmp.fileno())
        os.ftruncate(tmp.fileno(), kept)
        os.lseek(tmp.fileno(), kept, os.SEEK_SET)
        os.lseek(src.fileno(), kept, os.SEEK_SET)
    except BaseException:
        tmp.close()
        raise
    return tmp


def _same_prefix(a: int, b: int) -> int:
    """How many leading bytes of ``b`` equal ``a``'s, in whole 1 MiB blocks
    (or up to the end of ``b``)."""
    offset = 0
    while True:
        theirs = os.pread(b, _READ_CHUNK, offset)
        if not theirs or os.pread(a, len(theirs), offset) != theirs:
            return offset
        offset += len(theirs)


def _copy_large(src: int, dst: int, progress: Progress | None) -> None:
    """Copy from the current offsets of ``src`` and ``dst`` to the end."""
    try:
        while n := os.copy_file_range(src, dst, _COPY_CHUNK):
            if progress:
                progress(n)
            failpoint.hit("remote-copy-chunk")
        return
    except OSError as e:
        if e.errno not in _NO_COPY_RANGE:
            raise
    # These come from the first call in practice; start over regardless.
    os.lseek(src, 0, os.SEEK_SET)
    os.lseek(dst, 0, os.SEEK_SET)
    os.ftruncate(dst, 0)
    while chunk := os.read(src, 1 << 20):
        fsutil.write_all(dst, chunk)
        if progress:
            progress(len(chunk))

"""The content-addressed object store, ``.ama/objects/<hh>/<rest>``.

Contents enter by link, not by copy: reflink where the filesystem can, else
hardlink, else copy, as ``core.linkmode`` allows. ``auto`` tries them in that
order and falls back visibly (the mode actually used is returned and shown);
an explicit mode never silently becomes another. Trees and commits are
written as ordinary files. Nothing is stored under a name its bytes do not
hash to, with one documented exception: a hardlinked object whose work-tree
twin was edited in place, which ``status`` and ``fsck`` report and which
checkout moves aside (``quarantine``) instead of placing.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat

from .errors import EXIT_IO, AmaError, BadPath, Corrupt, IntegrityError
from .fsutil import fsync_dir, temp_name, unlink_quietly, write_all
from .hashing import hash_bytes, hash_fd

FICLONE = 0x40049409
# Errors that mean "this filesystem cannot link/clone here", as opposed to a
# real failure such as a full disk.
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


class Store:
    def __init__(self, objects_dir: str, linkmode: str = "auto"):
        self.root = objects_dir
        self.linkmode = linkmode
        self._made_dirs: set[str] = set()
        self._new_fanout = False
        # Modes that failed once with a "cannot link here" error in this
        # process are not tried again for every file.
        self._unsupported: set[str] = set()
        # Objects whose bytes this process saw hash to their id (fetched and
        # verified, or hashed): checkout places them without hashing again.
        self.verified: set[str] = set()
        # Reference ids (docs/references.md) met in trees read for a
        # checkout, with the id of the bytes each names once they are in
        # this store, verified (None until then): what is placed for them.
        self.ref_contents: dict[str, str | None] = {}

    def path(self, digest: str) -> str:
        return os.path.join(self.root, digest[:2], digest[2:])

    def has(self, digest: str) -> bool:
        return os.path.exists(self.path(digest))

    def _dir_for(self, digest: str) -> str:
        d = os.path.join(self.root, digest[:2])
        if d not in self._made_dirs:
            if not os.path.isdir(d):
                os.makedirs(d, exist_ok=True)
                self._new_fanout = True
            self._made_dirs.add(d)
        return d

    def make_fanout_dirs(self) -> None:
        """Make all 256 fan-out directories (for the compiled core's
        ``store_new``, which links into them), remembered for ``sync``."""
        for i in range(256):
            self._dir_for(f"{i:02x}")

    def dir_ready(self, digest: str) -> str:
        """``path(digest)``, its directory made (and remembered for ``sync``)."""
        self._dir_for(digest)
        return self.path(digest)

    def _tmp_path(self, digest: str) -> str:
        return temp_name(self._dir_for(digest))

    # -- contents ----------------------------------------------------------

    def modes_to_try(self) -> list[str]:
        if self.linkmode == "auto":
            return [m for m in ("reflink", "hardlink", "copy") if m not in self._unsupported]
        return [self.linkmode]

    def _modes(self, shared_ok: bool) -> list[str]:
        """The modes to try; without ``shared_ok`` a hardlink becomes a copy
        (an independent file must not share an inode with the store)."""
        modes = self.modes_to_try()
        if shared_ok or "hardlink" not in modes:
            return modes
        return [m for m in modes if m != "hardlink"] if self.linkmode == "auto" else ["copy"]

    def add_file(
        self, src: str, fd: int, digest: str, st: os.stat_result, display: str, shared_ok: bool = True
    ) -> str:
        """Store the open file ``fd`` (at ``src``, hashed to ``digest`` with
        snapshot ``st``) and return the mode used: a link mode, or ``present``.
        ``shared_ok=False`` rules out a hardlink (for files no index tracks,
        whose in-place edits nothing would notice).
        """
        if self.has(digest):
            return "present"
        self._dir_for(digest)

        def attempt(mode: str) -> None:
            if mode == "hardlink":
                self._hardlink(src, digest, st, display)
            else:
                self._clone_or_copy(fd, digest, mode, display)

        hint = "set core.linkmode to auto or copy" if self.linkmode != "auto" else "check the filesystem"
        try:
            return self._first_working_mode(shared_ok, attempt, f"{display}: cannot store", hint)
        except FileExistsError:
            return "present"

    def _first_working_mode(self, shared_ok: bool, attempt, what: str, hint: str) -> str:
        """Run ``attempt(mode)`` for each allowed mode until one works.

        Errors meaning "this filesystem cannot link or clone here" move on to
        the next mode (and, in ``auto``, skip that mode for the rest of the
        process); any other error is raised as it is.
        """
        last_error: OSError | None = None
        for mode in self._modes(shared_ok):
            try:
                attempt(mode)
                return mode
            except OSError as e:
                if e.errno not in _NO_LINK:
                    raise
                last_error = e
                # EXDEV depends on where the file lives, not on the store.
                if self.linkmode == "auto" and e.errno != errno.EXDEV:
                    self._unsupported.add(mode)
        reason = os.strerror(last_error.errno) if last_error and last_error.errno else "unsupported"
        raise AmaError(f"{what} with linkmode {self.linkmode} ({reason}); {hint}", EXIT_IO)

    def _hardlink(self, src: str, digest: str, st: os.stat_result, display: str) -> None:
        dest = self.path(digest)
        os.link(src, dest, follow_symlinks=False)
        linked = os.lstat(dest)
        if linked.st_ino != st.st_ino or linked.st_dev != st.st_dev:
            # The path now names another file than the one we hashed (saved
            # over between hash and link): never keep it under this name.
            os.unlink(dest)
            raise BadPath(f"{display}: was replaced while ama read it; add it again")

    def _clone_or_copy(self, fd: int, digest: str, mode: str, display: str) -> None:
        tmp = self._tmp_path(digest)
        # Read-write: the copy is read back to verify it before publishing.
        out = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            if mode == "reflink":
                fcntl.ioctl(out, FICLONE, fd)
            else:
                _copy_fd(fd, out)
            # The copy is what we publish, so it is what we verify: the
            # source may have changed since it was hashed.
            size = os.fstat(out).st_size
            if hash_fd(out, size) != digest:
                raise BadPath(f"{display}: changed while ama stored it; add it again")
            os.fsync(out)
        except BaseException:
            os.close(out)
            os.unlink(tmp)
            raise
        os.close(out)
        self._publish(tmp, digest)

    def publish_file(self, tmp: str, digest: str) -> None:
        """Give ``tmp``, a verified and fsynced file on the store's
        filesystem, its object name (create-if-absent) and drop ``tmp``."""
        self._dir_for(digest)
        self._publish(tmp, digest)

    def _publish(self, tmp: str, digest: str) -> None:
        """Give the verified temporary file ``tmp`` its object name, unless
        the object is already there, and drop the temporary name."""
        try:
            os.link(tmp, self.path(digest))
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)

    def link_out(self, digest: str, dest: str, shared_ok: bool = True) -> str:
        """Create ``dest`` (a new path) with object ``digest``'s content, by
        the link mode; return the mode used. ``shared_ok=False`` rules out a
        hardlink (a second work-tree path with the same content must not
        share the first one's inode)."""
        src = self.path(digest)

        def attempt(mode: str) -> None:
            if mode == "hardlink":
                os.link(src, dest)  # creates nothing when it fails
                return
            with open(src, "rb") as s, open(dest, "xb") as d:
                # Only a file this call created is removed on failure: an
                # existing ``dest`` (FileExistsError above) is never touched.
                try:
                    if mode == "reflink":
                        fcntl.ioctl(d.fileno(), FICLONE, s.fileno())
                    else:
                        _copy_fd(s.fileno(), d.fileno())
                except BaseException:
                    unlink_quietly(dest)
                    raise

        return self._first_working_mode(shared_ok, attempt, f"{dest}: cannot place", "check the filesystem")

    # -- trees, commits, fetched contents -----------------------------------

    def write_bytes(self, data: bytes) -> str:
        """Store ``data`` as an object; return its id."""
        digest = hash_bytes(data)
        if self.has(digest):
            return digest
        tmp = self._tmp_path(digest)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            write_all(fd, data)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            unlink_quietly(tmp)
            raise
        os.close(fd)
        self._publish(tmp, digest)
        return digest

    def batch(self) -> Batch:
        """A writer of many small objects (trees) made durable together."""
        return Batch(self)

    def read_bytes(self, digest: str, verify: bool = True) -> bytes:
        try:
            fd = self._open(digest)
        except FileNotFoundError:
            from .errors import NotFound

            raise NotFound(f"object {digest} is not in the local store") from None
        with os.fdopen(fd, "rb") as f:
            data = f.read()
        if verify and hash_bytes(data) != digest:
            raise IntegrityError(f"object {digest} is damaged: its bytes no longer hash to its name")
        return data

    def verify(self, digest: str) -> bool:
        """Whether the stored object's bytes still hash to its name."""
        good = self.actual_id(digest) == digest
        if good:
            self.verified.add(digest)
        return good

    def actual_id(self, digest: str) -> str:
        """The id the bytes stored under ``digest`` hash to now."""
        fd = self._open(digest)
        try:
            return hash_fd(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)

    def quarantine(self, digest: str) -> str:
        """Move the damaged object ``digest`` aside: it is renamed to the id
        its bytes hash to (an ordinary object, which fsck accepts and gc
        removes once nothing refers to it; the bytes may be someone's edit),
        so ``digest`` is free for a good copy. Returns that id."""
        src = self.path(digest)
        real = self.actual_id(digest)
        if real != digest:
            self._dir_for(real)
            try:
                os.link(src, self.path(real))
            except FileExistsError:
                pass
            os.unlink(src)
            fsync_dir(os.path.dirname(src))
            fsync_dir(os.path.dirname(self.path(real)))
        return real

    def _open(self, digest: str) -> int:
        """Open object ``digest`` for reading; Corrupt if something other
        than a file took its place (O_NONBLOCK: a FIFO must not hang us)."""
        fd = os.open(self.path(digest), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                from .hashing import describe_mode

                raise Corrupt(
                    f"local object {digest} {describe_mode(st.st_mode)}, not a file; "
                    f"move it aside (mv {self.path(digest)} /tmp/) and run the command again"
                )
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def iter_ids(self):
        try:
            heads = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return
        for head in heads:
            if len(head) != 2:
                continue
            for rest in sorted(os.listdir(os.path.join(self.root, head))):
                if not rest.startswith("."):
                    yield head + rest

    def shares_inode(self, digest: str, st: os.stat_result) -> bool:
        try:
            obj = os.lstat(self.path(digest))
        except FileNotFoundError:
            return False
        return obj.st_ino == st.st_ino and obj.st_dev == st.st_dev

    def fsync_dirs(self) -> None:
        """fsync every directory objects were written into, and the store's
        root if a fan-out directory was created: once per batch of writes,
        so that the names (not only the bytes) survive a crash."""
        for d in self._made_dirs:
            fsync_dir(d)
        if self._new_fanout:
            fsync_dir(self.root)
            self._new_fanout = False


class Batch:
    """Many objects written as one durable step, as git writes a pack.

    ``write`` puts each object's bytes in a temporary file without syncing
    it; ``close`` makes them all durable at once, then gives them their
    names, then makes the names durable. A crash before ``close`` returns
    leaves at most temporary files (which gc removes) or fully written
    objects under their names, never a partial one; the caller refers to
    the objects (PENDING, a commit) only after ``close`` returned. Few
    objects are synced one by one; from ``SYNC_FS_FROM`` objects on, one
    ``syncfs(2)`` of the store's file system replaces an fsync per object.
    """

    SYNC_FS_FROM = 16

    def __init__(self, store: Store):
        self.store = store
        self.temps: list[tuple[str, str]] = []  # (temporary path, digest)
        self.seen: set[str] = set()

    def write(self, data: bytes) -> str:
        """Write ``data`` as an object (durable at ``close``); return its id."""
        digest = hash_bytes(data)
        if digest in self.seen or self.store.has(digest):
            return digest
        self.seen.add(digest)
        tmp = self.store._tmp_path(digest)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            self.temps.append((tmp, digest))
            write_all(fd, data)
            if len(self.temps) <= self.SYNC_FS_FROM:
                os.fsync(fd)
        finally:
            os.close(fd)
        return digest

    def close(self) -> None:
        """Make every written object durable under its name."""
        temps, self.temps = self.temps, []
        many = len(temps) > self.SYNC_FS_FROM
        try:
            if many:
                _sync_filesystem(self.store.root)
            for tmp, digest in temps:
                self.store._publish(tmp, digest)
        except BaseException:
            for tmp, _ in temps:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
            raise
        if many:
            _sync_filesystem(self.store.root)
        else:
            for d in {os.path.dirname(tmp) for tmp, _ in temps}:
                fsync_dir(d)

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            for tmp, _ in self.temps:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass


def _sync_filesystem(path: str) -> None:
    """Flush every written byte and name of the file system holding ``path``
    (``syncfs(2)``); where that call is missing, the whole system's (``sync``)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    syncfs = getattr(libc, "syncfs", None)
    if syncfs is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), path)
    finally:
        os.close(fd)


def _copy_fd(src: int, dst: int) -> None:
    size = os.fstat(src).st_size
    offset = 0
    try:
        while offset < size:
            n = os.copy_file_range(src, dst, size - offset, offset, offset)
            if n == 0:
                break
            offset += n
        return
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
            raise
    os.lseek(dst, 0, os.SEEK_SET)
    os.ftruncate(dst, 0)
    pos = 0
    while True:
        chunk = os.pread(src, 1 << 20, pos)
        if not chunk:
            break
        write_all(dst, chunk)
        pos += len(chunk)



def resolve_prefix(store: Store, name: str) -> str:
    """A full object id from an id or a unique prefix of at least 4 hex digits."""
    from .errors import NotFound, UsageError

    name = name.lower()
    if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
        if not store.has(name):
            raise NotFound(f"no object {name} in the local store")
        return name
    if len(name) < 4 or not all(c in "0123456789abcdef" for c in name):
        raise NotFound(f"'{name}' is not an object id (64 hex digits, or a unique prefix of 4 or more)")
    try:
        rests = os.listdir(os.path.join(store.root, name[:2]))
    except FileNotFoundError:
        rests = []
    matches = [name[:2] + r for r in rests if (name[:2] + r).startswith(name) and not r.startswith(".")]
    if not matches:
        raise NotFound(f"no object matches '{name}'")
    if len(matches) > 1:
        raise UsageError(f"'{name}' is ambiguous: {len(matches)} objects start with it")
    return matches[0]

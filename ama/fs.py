"""An fsspec filesystem for versions: ``ama://CLASS/SEQ/N/PATH``.

Registered under the ``ama`` protocol through fsspec's entry point
(``fsspec.specs`` in setup.cfg), so anything that takes an fsspec URL reads
versions directly::

    pandas.read_csv("ama://genomics/12/3/manifest.csv")
    fsspec.open("ama://genomics/12/3/reads/a.fastq").open().read()

SEQ may be an alias (``ama://genomics/human/3/...``). The first levels
list what exists: ``ama://CLASS`` lists the assets of a class,
``ama://CLASS/SEQ`` its committed versions; below ``ama://CLASS/SEQ/N`` are
the version's files. Read-only. Files are the verified readers of
``ama.open`` (seekable; see ``ama.access.ContentReader``). ``remote=``
(storage option) is a URL or a remote name, as in the API.

Requires the optional dependency fsspec (``pip install 'ama[fsspec]'``);
``import ama`` does not import this module.
"""

from __future__ import annotations

import io
import os
from typing import Any

from fsspec.spec import AbstractFileSystem

from .access import Entry, Version
from .errors import PathNotFound


class AmaFileSystem(AbstractFileSystem):
    """Read-only view of the versions on a remote."""

    protocol = "ama"
    root_marker = ""

    def __init__(self, remote: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.remote = remote

    # -- paths -------------------------------------------------------------

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        if path.startswith("ama://"):
            path = path[len("ama://") :]
        elif path.startswith("ama:"):
            path = path[len("ama:") :]
        return path.strip("/")

    def _source(self):
        from .api import _source

        return _source(self.remote)

    def _split(self, path: str) -> tuple[list[str], str]:
        """(first levels: class, seq, n; the path inside the version)."""
        parts = [p for p in self._strip_protocol(path).split("/") if p]
        return parts[:3], "/".join(parts[3:])

    def _version(self, head: list[str]) -> Version:
        if len(head) < 3:
            raise PathNotFound(f"ama://{'/'.join(head)}: not a version (ama://CLASS/SEQ/N/PATH)")
        return self._source().version("/".join(head))

    # -- fsspec ------------------------------------------------------------

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        head, inner = self._split(path)
        if len(head) < 3:
            infos = self._ls_records(head)
        else:
            version = self._version(head)
            top = version.entry(inner)
            entries = version.children(top) if top.is_dir else [top]
            infos = [self._info("/".join(head), e) for e in entries]
        return infos if detail else [i["name"] for i in infos]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        head, inner = self._split(path)
        if len(head) < 3:
            name = "/".join(head)
            if len(head) == 2:
                self.ls(name)  # raises if the asset does not exist
            return {"name": name, "size": 0, "type": "directory"}
        return self._info("/".join(head), self._version(head).entry(inner))

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> io.BufferedReader:
        if mode != "rb":
            raise io.UnsupportedOperation(f"ama:// is read-only: cannot open in mode {mode!r}")
        head, inner = self._split(path)
        raw = self._version(head).open(inner)
        return io.BufferedReader(raw, buffer_size=1 << 20)

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        if start is None and end is None:
            head, inner = self._split(path)
            with self._version(head).open(inner) as f:
                return f.readall()
        return super().cat_file(path, start, end, **kwargs)

    def get_file(self, rpath: str, lpath: str, callback: Any = None, **kwargs: Any) -> None:
        head, inner = self._split(rpath)
        version = self._version(head)
        if version.entry(inner).is_dir:
            os.makedirs(lpath, exist_ok=True)
            return
        version.get(inner, lpath, force=True)

    def ukey(self, path: str) -> str:
        """The content id: equal ids, equal bytes."""
        return self.info(path)["id"]

    def checksum(self, path: str) -> int:
        return int(self.ukey(path)[:16], 16)

    # -- internals ---------------------------------------------------------

    def _info(self, prefix: str, e: Entry) -> dict[str, Any]:
        name = f"{prefix}/{e.path}" if e.path else prefix
        return {"name": name, "size": e.size, "type": e.kind, "id": e.id, "executable": e.executable}

    def _ls_records(self, head: list[str]) -> list[dict[str, Any]]:
        from .assets import COMMITTED, Assets, parse_asset_name

        assets = Assets(self._source().remote)
        if not head:
            return [{"name": c, "size": 0, "type": "directory"} for c in assets.list_classes()]
        if len(head) == 1:
            return [{"name": f"{head[0]}/{s}", "size": 0, "type": "directory"} for s in assets.list_seqs(head[0])]
        cls, middle, _ = parse_asset_name("/".join(head))
        seq = middle if isinstance(middle, int) else assets.resolve_alias(cls, middle)
        assets.read_asset(cls, seq)
        return [
            {"name": f"{head[0]}/{head[1]}/{r['version']}", "size": int(r.get("size") or 0), "type": "directory"}
            for r in assets.versions(cls, seq)
            if r.get("status") == COMMITTED
        ]

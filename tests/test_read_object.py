"""Remote.read_object: an object's bytes as a stream of chunks, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from ama.errors import NotFound
from ama.hashing import hash_bytes
from ama.remote.base import Remote

DATA = bytes(range(256)) * 12_000  # 3 MB: several 1 MiB chunks


def put(remote: Remote, tmp_path: Path, data: bytes) -> str:
    src = tmp_path / "src"
    src.write_bytes(data)
    digest = hash_bytes(data)
    remote.put_object(digest, str(src))
    return digest


def test_read_object_streams_the_bytes_from_any_offset(remote: Remote, tmp_path: Path) -> None:
    digest = put(remote, tmp_path, DATA)
    chunks = list(remote.read_object(digest))
    assert b"".join(chunks) == DATA and len(chunks) >= 3
    assert max(len(c) for c in chunks) <= 1 << 20
    assert b"".join(remote.read_object(digest, 1_000_001)) == DATA[1_000_001:]


def test_read_object_of_an_empty_object(remote: Remote, tmp_path: Path) -> None:
    digest = put(remote, tmp_path, b"")
    assert b"".join(remote.read_object(digest)) == b""


def test_read_object_of_an_absent_object_is_not_found_at_once(remote: Remote) -> None:
    with pytest.raises(NotFound):
        remote.read_object("ab" * 32)


@pytest.mark.parametrize("remote_kind", ["s3-inprocess"])
def test_s3_body_that_breaks_off_is_requested_again_from_where_it_stopped(
    remote: Remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ResponseStreamingError

    digest = put(remote, tmp_path, DATA)
    opened: list[int] = []
    real_open = remote._open_stream  # type: ignore[attr-defined]

    class Breaking:
        """A body that delivers one chunk, then fails as a reset connection does."""

        def __init__(self, body):
            self.body = body

        def iter_chunks(self, size: int):
            it = self.body.iter_chunks(size)
            yield next(it)
            raise ResponseStreamingError(error="connection reset")

        def close(self) -> None:
            self.body.close()

    def open_stream(full: str, what: str, start: int):
        opened.append(start)
        body = real_open(full, what, start)
        return Breaking(body) if len(opened) < 3 else body

    monkeypatch.setattr(remote, "_open_stream", open_stream)
    monkeypatch.setattr("ama.remote.s3._sleep_backoff", lambda attempt: None)
    assert b"".join(remote.read_object(digest)) == DATA
    assert opened == [0, 1 << 20, 2 << 20]

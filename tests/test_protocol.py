"""The whole commit protocol, once, against every backend.

``local`` (a directory remote), ``s3-http`` (moto's server on 127.0.0.1,
started for the session) and ``s3-real`` (a real S3 server, when
``AMA_TEST_S3_ENDPOINT`` names one: ``make test-s3-real``) run the installed
``ama`` command in subprocesses;
``s3-inprocess`` (moto's ``mock_aws``) can only answer calls made inside the
test process, so there the same commands go through ``ama.cli.main``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Result, ok, one_line_error, run_ama, tree_state
from remote_fixtures import REMOTE_KINDS
from txn_helpers import (
    FIXED_IDENTITY,
    InProcessAma,
    RemoteView,
    assert_consistent,
    b3,
    read_pending,
    txn_env,
    view_of,
    write_files,
)

from ama.objects import Commit, parse_tree

CLS = "data"
V1 = {
    "readme.txt": "version one\n",
    "data/table.csv": "a,b\n1,2\n",
    "data/blob.bin": bytes(range(256)) * 64,
    "data/empty": b"",
    "gone.txt": "removed in version two\n",
}


@dataclass
class Backend:
    url: str
    view: RemoteView
    ama: Callable[..., Result]  # ama(*args, cwd=...) -> Result


def subprocess_backend(url: str, env: dict[str, str]) -> Backend:
    return Backend(url, view_of(url, env), lambda *args, cwd: run_ama(*args, cwd=cwd, env=env))


@pytest.fixture(params=REMOTE_KINDS)
def backend(request, tmp_path, remote_url, monkeypatch, capsys) -> Iterator[Backend]:
    home = tmp_path / "home"
    if request.param != "s3-inprocess":
        r = remote_url(request.param)
        yield subprocess_backend(r.url, txn_env(home, r.env))
        return

    from moto import mock_aws
    from remote_fixtures import new_bucket

    request.getfixturevalue("aws_env")
    in_process = InProcessAma(monkeypatch, capsys, home)
    with mock_aws():
        url = f"s3://{new_bucket(None)}/some/prefix"
        yield Backend(url, view_of(url), in_process)


def remote_tree_files(view: RemoteView, tree_id: str, prefix: str = "") -> dict[str, str]:
    """path -> content id of every file of a tree, read from the remote."""
    files = {}
    for entry in parse_tree(view.read(f"objects/{tree_id[:2]}/{tree_id[2:]}"), tree_id):
        if entry.kind == "tree":
            files.update(remote_tree_files(view, entry.digest, f"{prefix}{entry.name}/"))
        else:
            files[prefix + entry.name] = entry.digest
    return files


def work_files(root: Path) -> dict[str, bytes]:
    """Every file of a work tree but ama's own, by relative path."""
    found = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(".ama/") and rel != ".ama-asset":
            found[rel] = path.read_bytes()
    return found


def expected_bytes(files: dict[str, bytes | str]) -> dict[str, bytes]:
    return {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}


def save_over(path: Path, data: bytes | str) -> None:
    """Replace a file the way editors save: a new inode renamed over it
    (an in-place write would also change the hardlinked cached object)."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def check_version_record(view: RemoteView, n: int, commit_id: str, parent: str | None, message: str,
                         files: dict[str, bytes]) -> dict:
    record = view.json(f"assets/{CLS}/1/versions/{n}.json")
    documented = {"version", "status", "txid", "user", "parent", "reserved_at", "commit", "tree", "author",
                  "time", "message", "size", "files", "committed_at"}
    assert documented <= set(record), documented - set(record)
    assert record["version"] == n and record["status"] == "committed"
    assert record["commit"] == commit_id and record["parent"] == parent
    assert record["message"] == message and record["files"] == len(files)
    assert record["size"] == sum(len(b) for b in files.values())
    author = f"{FIXED_IDENTITY['AMA_AUTHOR_NAME']} <{FIXED_IDENTITY['AMA_AUTHOR_EMAIL']}>"
    assert record["author"] == author and record["time"] == 1700000000
    commit = Commit.parse(view.read(f"objects/{commit_id[:2]}/{commit_id[2:]}"), commit_id)
    assert (commit.tree, commit.parent, commit.asset, commit.version) == (record["tree"], parent, f"{CLS}/1", n)
    assert {p: b3(b) for p, b in files.items()} == remote_tree_files(view, commit.tree)
    return record


def committed_id(result: Result, n: int) -> str:
    prefix = f"[{CLS}/1 version {n}] "
    line = next(line for line in result.out.splitlines() if line.startswith(prefix))
    return line[len(prefix):].split()[0]


def test_commit_protocol(backend: Backend, tmp_path: Path):
    ama, view = backend.ama, backend.view
    work = tmp_path / "work"
    work.mkdir()
    ok(ama("init", "--class", CLS, "--remote", backend.url, cwd=work))

    # Version 1: a new asset.
    write_files(work, V1)
    ok(ama("add", ".", cwd=work))
    first = ok(ama("commit", "-m", "first version", cwd=work))
    v1_id = committed_id(first, 1)
    v1_files = expected_bytes(V1)
    asset = view.json(f"assets/{CLS}/1/asset.json")
    assert asset["class"] == CLS and asset["seq"] == 1
    record1 = check_version_record(view, 1, (work / ".ama/refs/assets/data/1").read_text().strip(), None,
                                   "first version", v1_files)
    assert record1["commit"].startswith(v1_id)
    v1 = record1["commit"]
    assert view.head(CLS, 1) == {"version": 1, "commit": v1}
    assert read_pending(work) is None
    assert_consistent(work, view)

    # Version 2: one file changed, one removed, one new.
    save_over(work / "readme.txt", "version two\n")
    ok(ama("rm", "gone.txt", cwd=work))
    write_files(work, {"data/new.txt": "new in two\n"})
    ok(ama("add", "readme.txt", "data/new.txt", cwd=work))
    second = ok(ama("commit", "-m", "second version\n\nwith a body", cwd=work))
    v2_files = {**{k: v for k, v in v1_files.items() if k != "gone.txt"},
                "readme.txt": b"version two\n", "data/new.txt": b"new in two\n"}
    v2 = (work / ".ama/refs/assets/data/1").read_text().strip()
    assert v2.startswith(committed_id(second, 2))
    check_version_record(view, 2, v2, v1, "second version", v2_files)
    assert view.head(CLS, 1) == {"version": 2, "commit": v2}
    assert sorted(view.versions(CLS, 1)) == [1, 2] and view.seqs(CLS) == [1]
    assert f"commit {v2}" in (work / ".ama/HEAD").read_text()
    assert_consistent(work, view)

    # Nothing changed: said so, nothing written anywhere.
    remote_before, local_before = view.snapshot(), tree_state(work)
    again = ok(ama("commit", "-m", "nothing", cwd=work))
    assert "nothing to commit" in again.out + again.err
    assert view.snapshot() == remote_before and tree_state(work) == local_before

    # Clones of either version hold exactly its bytes, which hash to the tree's ids.
    for n, files, commit_id in ((1, v1_files, v1), (2, v2_files, v2)):
        dest = tmp_path / f"clone-{n}"
        ok(ama("clone", "--remote", backend.url, f"{CLS}/1/{n}", dest, cwd=tmp_path))
        got = work_files(dest)
        assert got == files
        ids = remote_tree_files(view, Commit.parse(view.read(f"objects/{commit_id[:2]}/{commit_id[2:]}")).tree)
        assert {p: b3(b) for p, b in got.items()} == ids
        assert f"commit {commit_id}" in (dest / ".ama/HEAD").read_text()

    # A tracked file changed since 'ama add' stops the commit; nothing is published.
    write_files(work, {"staged.txt": "staged\n"})
    ok(ama("add", "staged.txt", cwd=work))
    remote_before = view.snapshot()

    def refused(path_named: str) -> None:
        line = one_line_error(ama("commit", "-m", "refused", cwd=work), 12)
        assert path_named in line, line
        assert view.snapshot() == remote_before
        assert read_pending(work) is None

    save_over(work / "data/table.csv", "a,b\n1,3\n")
    refused("data/table.csv")
    save_over(work / "data/table.csv", V1["data/table.csv"])

    (work / "data/new.txt").unlink()
    refused("data/new.txt")
    write_files(work, {"data/new.txt": "new in two\n"})

    os.rename(work / "readme.txt", work / "renamed.txt")
    refused("readme.txt")
    os.rename(work / "renamed.txt", work / "readme.txt")

    third = ok(ama("commit", "-m", "third", cwd=work))
    v3 = (work / ".ama/refs/assets/data/1").read_text().strip()
    assert v3.startswith(committed_id(third, 3))
    check_version_record(view, 3, v3, v2, "third", {**v2_files, "staged.txt": b"staged\n"})
    assert view.head(CLS, 1) == {"version": 3, "commit": v3}
    assert_consistent(work, view)

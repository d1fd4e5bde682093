"""``ama commit`` killed (SIGKILL) at every step of the transaction.

For each failpoint of ``ama/txn.py`` and ``ama/version_transfer.py`` the commit is run in a
subprocess that kills itself there. Then: invariant 1 holds on the remote,
invariant 2 locally and remotely, every file in ``.ama/`` is readable, ``ama
status`` shows the pending transaction, and the next ``ama commit`` finishes
it with the commit id an uninterrupted run gives.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Result, ok, run_ama
from txn_helpers import (
    DirView,
    InProcessAma,
    assert_consistent,
    read_pending,
    txn_env,
    view_of,
    write_files,
)

CLS = "data"
MESSAGE = "crash test"

V1_FILES = {
    "a.bin": b"a" * 5000,
    "b.txt": "bee\n",
    "sub/c.bin": bytes(range(256)) * 40,
}
# Two new contents for version 2 (b.txt changed, sub/d.bin new); a.bin and
# sub/c.bin are on the remote already.
V2_FILES = {"b.txt": "bee, changed\n", "sub/d.bin": b"d" * 3000}

STEPS = ["after-pending", "after-seq", "after-reserve"]
LATE_STEPS = ["after-contents", "after-trees", "before-version", "after-version", "after-head", "after-ref"]
FIRST_MATRIX = STEPS + [f"after-object:{k}" for k in range(1, len(V1_FILES) + 1)] + LATE_STEPS
# Version 2 reuses the code paths above; a sample of its steps suffices.
NEXT_SAMPLE = ["after-reserve", "after-object:2", "after-trees", "after-head"]


def prepare(root: Path, url: str, env: dict[str, str], stage: str) -> Path:
    """A work tree whose next commit is version 1 ("first") or 2 ("next")."""
    work = root / "work"
    work.mkdir(parents=True)
    ok(run_ama("init", "--class", CLS, "--remote", url, cwd=work, env=env))
    write_files(work, V1_FILES)
    ok(run_ama("add", ".", cwd=work, env=env))
    if stage == "next":
        ok(run_ama("commit", "-m", "version one", cwd=work, env=env))
        write_files(work, V2_FILES)
        ok(run_ama("add", ".", cwd=work, env=env))
    return work


def copy_case(template: Path, dest: Path) -> tuple[Path, str]:
    """A copy of a prepared work tree and its directory remote, repointed."""
    shutil.copytree(template, dest, symlinks=True)
    config = dest / "work" / ".ama" / "config"
    config.write_text(config.read_text().replace(str(template / "remote"), str(dest / "remote")))
    return dest / "work", str(dest / "remote")


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Prepared work trees with directory remotes, one per stage, to copy."""
    made = {}
    for stage in ("first", "next"):
        root = tmp_path_factory.mktemp(f"template-{stage}")
        prepare(root, str(root / "remote"), txn_env(root / "home"), stage)
        made[stage] = root
    return made


@pytest.fixture(scope="module")
def reference(templates: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Commit ids an uninterrupted ``ama commit`` gives, by stage."""
    ids = {}
    for stage, template in templates.items():
        work, _ = copy_case(template, tmp_path_factory.mktemp("reference") / stage)
        ok(run_ama("commit", "-m", MESSAGE, cwd=work, env=txn_env(work.parent / "home")))
        ids[stage] = (work / ".ama" / "refs" / "assets" / CLS / "1").read_text().strip()
    assert ids["first"] != ids["next"]
    return ids


def crash_then_finish(work: Path, url: str, env: dict[str, str], stage: str, point: str, expected: str,
                      ama: Callable[..., Result] | None = None) -> None:
    """Kill ``ama commit`` at ``point``, check, finish it with ``ama`` (the
    command in a subprocess by default), check again."""
    ama = ama or (lambda *args, cwd: run_ama(*args, cwd=cwd, env=env))
    view = view_of(url, env)
    version = 1 if stage == "first" else 2

    crashed = run_ama("commit", "-m", MESSAGE, cwd=work, env={**env, "AMA_FAILPOINT": point})
    assert crashed.rc == -9, f"not killed at {point}: rc={crashed.rc} {crashed.err!r}"

    assert_consistent(work, view)
    pending = read_pending(work)
    assert pending is not None, "PENDING must survive until the transaction is complete"
    status = ok(ama("status", cwd=work))
    assert "interrupted" in status.out, status.out

    finished = ok(ama("commit", "-m", MESSAGE, cwd=work))
    assert f"[{CLS}/1 version {version}] {expected[:12]}" in finished.out, finished.out

    assert read_pending(work) is None
    assert_consistent(work, view)
    assert (work / ".ama" / "refs" / "assets" / CLS / "1").read_text().strip() == expected
    assert f"commit {expected}" in (work / ".ama" / "HEAD").read_text()
    assert view.seqs(CLS) == [1], "a resumed transaction must not allocate another asset"
    records = view.versions(CLS, 1)
    assert sorted(records) == list(range(1, version + 1))
    assert records[version]["status"] == "committed" and records[version]["commit"] == expected
    assert records[version]["txid"] == pending["txid"]
    assert view.head(CLS, 1) == {"version": version, "commit": expected}
    if isinstance(view, DirView):
        # A killed upload may leave a temporary file (never under a key's
        # name); a lock left behind would block every later writer.
        assert [f for f in view.stray_files() if f.endswith(".lock")] == []


# The directory-remote cases finish in this process (ama.cli.main), which
# spares two interpreter start-ups per case; the S3 sample runs the command.


@pytest.mark.parametrize("point", FIRST_MATRIX)
def test_killed_first_commit_is_finished_by_the_next(tmp_path, templates, reference, point, monkeypatch, capsys):
    work, url = copy_case(templates["first"], tmp_path / "case")
    ama = InProcessAma(monkeypatch, capsys, tmp_path / "home")
    crash_then_finish(work, url, txn_env(tmp_path / "home"), "first", point, reference["first"], ama)


@pytest.mark.parametrize("point", NEXT_SAMPLE)
def test_killed_second_commit_is_finished_by_the_next(tmp_path, templates, reference, point, monkeypatch, capsys):
    work, url = copy_case(templates["next"], tmp_path / "case")
    ama = InProcessAma(monkeypatch, capsys, tmp_path / "home")
    crash_then_finish(work, url, txn_env(tmp_path / "home"), "next", point, reference["next"], ama)


@pytest.mark.parametrize("point", ["after-object:2", "after-version"])
def test_killed_commit_to_s3_is_finished_by_the_next(tmp_path, remote_url, reference, point):
    r = remote_url("s3-http")
    env = txn_env(tmp_path / "home", r.env)
    work = prepare(tmp_path, r.url, env, "first")
    crash_then_finish(work, r.url, env, "first", point, reference["first"])


def test_commit_killed_again_while_finishing_is_finished_by_the_next(tmp_path, templates, reference):
    work, url = copy_case(templates["first"], tmp_path / "case")
    env = txn_env(tmp_path / "home")
    view = view_of(url)
    txid = None
    for point in ("after-seq", "after-object:1", "before-version", "after-head"):
        killed = run_ama("commit", "-m", MESSAGE, cwd=work, env={**env, "AMA_FAILPOINT": point})
        assert killed.rc == -9, f"not killed at {point}: {killed.err!r}"
        assert_consistent(work, view)
        txid = txid or read_pending(work)["txid"]
        assert read_pending(work)["txid"] == txid, "every run finishes the same transaction"
    finished = ok(run_ama("commit", "-m", MESSAGE, cwd=work, env=env))
    assert f"[{CLS}/1 version 1] {reference['first'][:12]}" in finished.out
    assert view.seqs(CLS) == [1] and sorted(view.versions(CLS, 1)) == [1]
    assert view.head(CLS, 1) == {"version": 1, "commit": reference["first"]}
    assert_consistent(work, view)


@pytest.mark.parametrize(("point", "forget"), [("after-seq", ["seq"]), ("after-reserve", ["version"]),
                                               ("after-reserve", ["seq", "version"])])
def test_remote_work_not_yet_saved_in_pending_is_found_by_txid(tmp_path, templates, reference, point, forget):
    # Killed between a remote write and saving its result in PENDING (no
    # failpoint sits there): recovery must find its own seq and version.
    work, url = copy_case(templates["first"], tmp_path / "case")
    env = txn_env(tmp_path / "home")
    assert run_ama("commit", "-m", MESSAGE, cwd=work, env={**env, "AMA_FAILPOINT": point}).rc == -9
    pending_file = work / ".ama" / "PENDING"
    record = json.loads(pending_file.read_text())
    for name in forget:
        record[name] = None
    record["asset"] = None if record["seq"] is None else record["asset"]
    pending_file.write_text(json.dumps(record))

    finished = ok(run_ama("commit", "-m", MESSAGE, cwd=work, env=env))
    assert f"[{CLS}/1 version 1] {reference['first'][:12]}" in finished.out, finished.out
    view = view_of(url)
    assert view.seqs(CLS) == [1] and sorted(view.versions(CLS, 1)) == [1]
    assert_consistent(work, view)

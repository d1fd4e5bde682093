"""Two writers, one asset (invariant 4).

Work trees cloned from the same version commit at once: exactly one of them
gets the next version, the other is told the asset moved on (exit 8), and
after 'ama pull' its commit lands as the version after that. Two commits in
one repository serialize on .ama/txn.lock, the second reporting it (exit 5).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import AMA, held_lock, ok, one_line_error, run_ama
from txn_helpers import DirView, assert_consistent, read_pending, txn_env, wait_for, write_files

CLS = "data"


def start_commit(work: Path, env: dict[str, str], message: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [AMA, "commit", "-m", message], cwd=work, env={**env, **extra},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def published(tmp_path: Path) -> tuple[DirView, dict[str, str], str]:
    """A directory remote holding data/1 version 1, and an env to use it."""
    remote = tmp_path / "remote"
    env = txn_env(tmp_path / "home")
    origin = tmp_path / "origin"
    origin.mkdir()
    ok(run_ama("init", "--class", CLS, "--remote", remote, cwd=origin, env=env))
    write_files(origin, {"shared.txt": "v1\n"})
    ok(run_ama("add", ".", cwd=origin, env=env))
    ok(run_ama("commit", "-m", "one", cwd=origin, env=env))
    return DirView(remote), env, str(remote)


def assert_linear_history(view: DirView, successes: int) -> list[dict]:
    """Versions 1..n all committed, each on top of the one before, all distinct."""
    records = view.versions(CLS, 1)
    assert sorted(records) == list(range(1, successes + 2)), records
    parent = None
    for n in sorted(records):
        record = records[n]
        assert record["status"] == "committed", (n, record)
        assert record["parent"] == parent, f"version {n} forks: parent {record['parent']}, expected {parent}"
        parent = record["commit"]
    assert len({r["commit"] for r in records.values()}) == len(records)
    assert view.head(CLS, 1) == {"version": successes + 1, "commit": parent}
    return [records[n] for n in sorted(records)]


def test_racing_work_trees_get_one_version_each_and_lose_no_work(tmp_path):
    view, env, url = published(tmp_path)
    trees = []
    for name in ("left", "right"):
        ok(run_ama("clone", "--remote", url, f"{CLS}/1", tmp_path / name, cwd=tmp_path, env=env))
        trees.append(tmp_path / name)
    written: dict[str, str] = {"shared.txt": "v1\n"}
    successes = 0
    for round_ in range(2):
        for work in trees:
            name = f"{work.name}-{round_}.txt"
            write_files(work, {name: f"{work.name} round {round_}\n"})
            written[name] = f"{work.name} round {round_}\n"
            ok(run_ama("add", name, cwd=work, env=env))
        procs = [start_commit(work, env, f"{work.name} {round_}") for work in trees]
        results = [(p, *p.communicate(timeout=60)) for p in procs]
        codes = sorted(p.returncode for p, _, _ in results)
        assert codes == [0, 8], [(p.returncode, err) for p, _, err in results]
        successes += 1
        loser = trees[[p.returncode for p, _, _ in results].index(8)]
        err = results[trees.index(loser)][2]
        assert re.search(r"moved on|moving on", err) and "ama pull" in err, err
        assert read_pending(loser) is None, "a commit that reserved nothing must not leave PENDING"

        ok(run_ama("pull", cwd=loser, env=env))
        landed = ok(run_ama("commit", "-m", f"{loser.name} {round_} again", cwd=loser, env=env))
        successes += 1
        assert f"version {successes + 1}]" in landed.out, landed.out
        winner = trees[1 - trees.index(loser)]
        ok(run_ama("pull", cwd=winner, env=env))
        assert_linear_history(view, successes)

    for work in trees:
        assert_consistent(work, view)
    final = tmp_path / "final"
    ok(run_ama("clone", "--remote", url, f"{CLS}/1", final, cwd=tmp_path, env=env))
    got = {p.name: p.read_text() for p in final.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert got == written, "work was lost"


def test_commit_on_a_stale_parent_is_refused_while_another_commit_is_unfinished(tmp_path):
    view, env, url = published(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    for work in (a, b):
        ok(run_ama("clone", "--remote", url, f"{CLS}/1", work, cwd=tmp_path, env=env))
        write_files(work, {f"{work.name}.txt": work.name})
        ok(run_ama("add", ".", cwd=work, env=env))
    # a's version 2 is committed on the remote, but the asset's HEAD has
    # not moved yet when it dies.
    killed = run_ama("commit", "-m", "a", cwd=a, env={**env, "AMA_FAILPOINT": "after-version"})
    assert killed.rc == -9
    line = one_line_error(run_ama("commit", "-m", "b", cwd=b, env=env), 8)
    assert "moved on" in line
    assert read_pending(b) is None
    ok(run_ama("commit", "-m", "a", cwd=a, env=env))
    records = assert_linear_history(view, 1)
    assert records[-1]["message"] == "a"
    ok(run_ama("pull", cwd=b, env=env))
    ok(run_ama("commit", "-m", "b", cwd=b, env=env))
    assert_linear_history(view, 2)


def test_second_commit_in_one_repository_reports_the_held_lock(tmp_path):
    view, env, url = published(tmp_path)
    work = tmp_path / "work"
    ok(run_ama("clone", "--remote", url, f"{CLS}/1", work, cwd=tmp_path, env=env))
    write_files(work, {"more.txt": "more"})
    ok(run_ama("add", ".", cwd=work, env=env))
    # Hold the remote's lock on version 2's record: the first commit waits
    # there, inside its transaction, until the lock goes away.
    record_lock = Path(url) / "assets" / CLS / "1" / "versions" / "2.json.lock"
    with held_lock(record_lock):
        first = start_commit(work, env, "first", AMA_LOCK_TIMEOUT="60")
        try:
            wait_for(lambda: (Path(url) / "assets" / CLS / "1" / "versions" / "2.json").exists(), what="reservation")
            line = one_line_error(run_ama("commit", "-m", "second", cwd=work, env=env), 5)
            assert "txn.lock" in line and "held" in line and str(first.pid) in line
        except BaseException:
            first.kill()
            raise
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert_linear_history(view, 1)


def test_a_reader_rolling_head_forward_over_our_version_mid_advance_is_not_a_conflict(tmp_path):
    """A commits version 2 and reads HEAD (at 1) to move it; before A's
    compare-and-swap lands, B (reserving, so calling settled_head) rolls HEAD
    forward over A's committed version 2. A's swap then fails, but HEAD is
    where A wanted it: A succeeded and must not say "moved on" (exit 8)."""
    from ama.assets import Assets
    from ama.remote.local import LocalRemote

    remote = LocalRemote(str(tmp_path / "remote"))
    a = Assets(remote)
    seq = a.allocate_seq("race", "race", "alice")
    n1 = a.reserve_version("race", seq, None, "t1", "alice")
    a.commit_version("race", seq, n1, "t1", {"commit": "1" * 64, "tree": "0" * 64})
    a.advance_head("race", seq, n1, "1" * 64, None)
    n2 = a.reserve_version("race", seq, "1" * 64, "t2", "alice")
    a.commit_version("race", seq, n2, "t2", {"commit": "2" * 64, "tree": "0" * 64})
    stale = a.head("race", seq)
    b = Assets(LocalRemote(str(tmp_path / "remote")))
    assert b.settled_head("race", seq).version == n2  # B rolls HEAD forward
    reads = iter([stale])
    real_head = a.head
    a.head = lambda cls, s: next(reads, None) or real_head(cls, s)  # A's read happened before B's write
    a.advance_head("race", seq, n2, "2" * 64, "1" * 64)
    assert real_head("race", seq).version == n2

"""A shell script of plumbing publishes a version on the remote, as 'ama commit' does.

'ama reserve-version' (stage 1) and 'ama publish-version' (stage 2) do the
transaction's remote steps; with 'write-tree' and 'commit-tree' between them
the version lands on the remote with the commit id 'ama commit' gives, and
'ama clone' and 'ama log' find it. The README's example is run verbatim.
Each command is idempotent by its txid: killed at any step, run again, the
version is published once.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import AMA, ok, one_line_error, run_ama
from txn_helpers import DirView, assert_consistent, txn_env, write_files

ROOT = Path(__file__).resolve().parent.parent
CSV = {"data/a.csv": "x,y\n1,2\n", "data/b.csv": "k,v\n" + "z,9\n" * 500}


def readme_plumbing_block() -> str:
    """The code block of the README's "## Plumbing" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Plumbing\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the Plumbing section has one example"
    return blocks[0]


def run_script(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    script_env = {**env, "PATH": os.path.dirname(AMA) + os.pathsep + env["PATH"]}
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=script_env, capture_output=True, text=True,
                          timeout=120)


def new_repo(path: Path, remote: Path, env: dict[str, str], cls: str = "tables") -> Path:
    path.mkdir(parents=True)
    ok(run_ama("init", "--class", cls, "--remote", remote, cwd=path, env=env))
    write_files(path, CSV)
    return path


def ama_commit_id(tmp_path: Path, env: dict[str, str], message: str = "first") -> str:
    """The commit id 'ama commit' gives for CSV as the first version."""
    twin = new_repo(tmp_path / "twin", tmp_path / "twin-remote", env)
    ok(run_ama("add", "data", cwd=twin, env=env))
    out = ok(run_ama("commit", "-m", message, cwd=twin, env=env)).out
    commit = (twin / ".ama/refs/assets/tables/1").read_text().strip()
    assert f"[tables/1 version 1] {commit[:12]}" in out
    return commit


def test_the_readme_example_publishes_a_version_clone_and_log_see(tmp_path):
    # The README's example fixes the author and date itself; the twin gets the same.
    env = txn_env(tmp_path / "home", AMA_AUTHOR_NAME="A U Thor", AMA_AUTHOR_EMAIL="a@example.com")
    work = new_repo(tmp_path / "work", tmp_path / "remote", env)

    run = run_script(readme_plumbing_block(), work, env)
    assert run.returncode == 0, run.stderr

    expected = ama_commit_id(tmp_path, env)
    view = DirView(tmp_path / "remote")
    assert view.head("tables", 1) == {"version": 1, "commit": expected}
    assert view.versions("tables", 1)[1]["status"] == "committed"
    assert_consistent(work, view)
    # Locally as after 'ama commit': ref, HEAD, pointer file, a clean status.
    assert (work / ".ama/refs/assets/tables/1").read_text().strip() == expected
    assert "asset: tables/1\nversion: 1\n" in (work / ".ama-asset").read_text()
    status = ok(run_ama("status", "--porcelain", cwd=work, env=env)).out
    assert "data/" not in status, status

    ok(run_ama("clone", "--remote", tmp_path / "remote", "tables/1", tmp_path / "clone", cwd=tmp_path, env=env))
    assert (tmp_path / "clone/data/b.csv").read_text() == CSV["data/b.csv"]
    log = ok(run_ama("log", "--oneline", cwd=tmp_path / "clone", env=env)).out
    assert log.splitlines() == [f"{expected[:12]} tables/1/1 first"]


SECOND = r"""
printf 'x,y\n1,2\n3,4\n' > data/a.csv
ama update-index --add data/a.csv
tree=$(ama write-tree)
parent=$(ama rev-parse HEAD)
reservation=$(ama reserve-version)
read -r asset version txid <<<"$reservation"
commit=$(ama commit-tree "$tree" -p "$parent" --asset "$asset" --version "$version" -m "second")
ama publish-version "$commit" --txid "$txid"
echo "$commit"
"""


def test_a_second_version_by_plumbing_has_the_id_ama_commit_gives(tmp_path):
    env = txn_env(tmp_path / "home")
    twin = new_repo(tmp_path / "twin", tmp_path / "twin-remote", env)
    ok(run_ama("add", "data", cwd=twin, env=env))
    ok(run_ama("commit", "-m", "first", cwd=twin, env=env))
    write_files(twin, {"data/a.csv": "x,y\n1,2\n3,4\n"})
    ok(run_ama("add", "data", cwd=twin, env=env))
    ok(run_ama("commit", "-m", "second", cwd=twin, env=env))
    expected = (twin / ".ama/refs/assets/tables/1").read_text().strip()

    work = new_repo(tmp_path / "work", tmp_path / "remote", env)
    ok(run_ama("add", "data", cwd=work, env=env))
    ok(run_ama("commit", "-m", "first", cwd=work, env=env))
    run = run_script(SECOND, work, env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [expected]
    view = DirView(tmp_path / "remote")
    assert view.head("tables", 1) == {"version": 2, "commit": expected}
    assert_consistent(work, view)
    log = ok(run_ama("log", "--oneline", cwd=work, env=env)).out.splitlines()
    assert [line.split(" ", 1)[1] for line in log] == ["tables/1/2 second", "tables/1/1 first"]


def test_reserving_again_with_the_same_txid_gives_the_same_reservation(tmp_path):
    env = txn_env(tmp_path / "home")
    work = new_repo(tmp_path / "work", tmp_path / "remote", env)
    first = ok(run_ama("reserve-version", "--txid", "job-42", cwd=work, env=env)).out
    assert first == "tables/1 1 job-42\n"
    assert ok(run_ama("reserve-version", "--txid", "job-42", cwd=work, env=env)).out == first
    view = DirView(tmp_path / "remote")
    assert view.seqs("tables") == [1], "a new asset is allocated once per txid"
    assert sorted(view.versions("tables", 1)) == [1]
    # Another transaction cannot reserve over it: versions never fork.
    other = run_ama("reserve-version", "--asset", "tables/1", "--txid", "job-43", cwd=work, env=env)
    assert "reserved by an unfinished commit" in one_line_error(other, 8)
    # A random txid when none is given; a class alone is a new asset.
    out = ok(run_ama("reserve-version", "--asset", "other", cwd=work, env=env)).out.split()
    assert out[:2] == ["other/1", "1"] and re.fullmatch(r"[0-9a-f]{32}", out[2])


def test_publish_refuses_what_it_did_not_reserve_and_changes_nothing(tmp_path):
    env = txn_env(tmp_path / "home")
    work = new_repo(tmp_path / "work", tmp_path / "remote", env)
    ok(run_ama("update-index", "--add", "data/a.csv", "data/b.csv", cwd=work, env=env))
    tree = ok(run_ama("write-tree", cwd=work, env=env)).out.strip()

    def commit_tree(*extra: str) -> str:
        return ok(run_ama("commit-tree", tree, "--asset", "tables/1", "--version", "1", "-m", "m", *extra,
                          cwd=work, env=env)).out.strip()

    commit = commit_tree()
    view = DirView(tmp_path / "remote")
    not_reserved = run_ama("publish-version", commit, "--txid", "t1", cwd=work, env=env)
    assert "is not reserved" in one_line_error(not_reserved, 11)
    ok(run_ama("reserve-version", "--txid", "t1", cwd=work, env=env))
    before = view.keys("")
    wrong_txid = run_ama("publish-version", commit, "--txid", "t2", cwd=work, env=env)
    assert "reserved by another transaction" in one_line_error(wrong_txid, 8)
    with_parent = commit_tree("-p", commit)
    assert "was reserved on top of none" in one_line_error(
        run_ama("publish-version", with_parent, "--txid", "t1", cwd=work, env=env), 2)
    assert "--txid" in one_line_error(run_ama("publish-version", commit, "--txid", "a b", cwd=work, env=env), 2)
    assert view.keys("") == before, "a refused publish changes nothing on the remote"
    assert view.objects() == {}
    assert not (work / ".ama/refs/assets/tables/1").exists()
    ok(run_ama("publish-version", commit, "--txid", "t1", cwd=work, env=env))
    # Done: running it again changes nothing and succeeds.
    after = {k: view.json(k) for k in view.keys("assets/")}
    ok(run_ama("publish-version", commit, "--txid", "t1", cwd=work, env=env))
    assert {k: view.json(k) for k in view.keys("assets/")} == after
    log = (work / ".ama/logs/assets/tables/1").read_text().splitlines()
    assert len(log) == 1


# -- killed at every step --------------------------------------------------------

PUBLISH_STEPS = ["after-object:1", "after-object:2", "after-contents", "after-trees", "before-version",
                 "after-version", "after-head", "after-ref"]
# One point per stage in 'make test'; the whole matrix in 'make test-slow'.
SAMPLE = {"after-object:1", "before-version", "after-ref"}

STAGE = r"""
ama update-index --add data/a.csv data/b.csv
tree=$(ama write-tree)
commit=$(ama commit-tree "$tree" --asset tables/1 --version 1 -m "first")
echo "$commit"
"""


@pytest.fixture(scope="module")
def first_id(tmp_path_factory) -> str:
    """The commit id 'ama commit' gives CSV as version 1 (fixed author and date)."""
    root = tmp_path_factory.mktemp("twin")
    return ama_commit_id(root, txn_env(root / "home"))


@pytest.mark.parametrize("point", [p if p in SAMPLE else pytest.param(p, marks=pytest.mark.slow)
                                   for p in PUBLISH_STEPS])
def test_publish_killed_at_each_step_is_finished_by_running_it_again(tmp_path, point, first_id):
    env = txn_env(tmp_path / "home")
    expected = first_id
    work = new_repo(tmp_path / "work", tmp_path / "remote", env)
    view = DirView(tmp_path / "remote")
    assert ok(run_ama("reserve-version", "--txid", "t1", cwd=work, env=env)).out == "tables/1 1 t1\n"
    staged = run_script(STAGE, work, env)
    assert staged.returncode == 0, staged.stderr
    commit = staged.stdout.strip()
    assert commit == expected

    killed = run_ama("publish-version", commit, "--txid", "t1", cwd=work, env={**env, "AMA_FAILPOINT": point})
    assert killed.rc == -9, f"not killed at {point}: rc={killed.rc} {killed.err!r}"
    assert_consistent(work, view)

    ok(run_ama("publish-version", commit, "--txid", "t1", cwd=work, env=env))
    assert_consistent(work, view)
    assert view.seqs("tables") == [1]
    records = view.versions("tables", 1)
    assert sorted(records) == [1], "published exactly once"
    assert records[1]["status"] == "committed" and records[1]["commit"] == expected
    assert records[1]["files"] == 2 and records[1]["size"] == sum(len(v) for v in CSV.values())
    assert view.head("tables", 1) == {"version": 1, "commit": expected}
    assert (work / ".ama/refs/assets/tables/1").read_text().strip() == expected
    assert f"commit {expected}" in (work / ".ama/HEAD").read_text()
    assert len((work / ".ama/logs/assets/tables/1").read_text().splitlines()) == 1
    assert [f for f in view.stray_files() if f.endswith(".lock")] == []


def test_reserve_killed_after_allocating_the_asset_finds_it_again(tmp_path):
    env = txn_env(tmp_path / "home")
    work = new_repo(tmp_path / "work", tmp_path / "remote", env)
    killed = run_ama("reserve-version", "--txid", "t1", cwd=work, env={**env, "AMA_FAILPOINT": "after-seq"})
    assert killed.rc == -9
    view = DirView(tmp_path / "remote")
    assert view.seqs("tables") == [1] and view.versions("tables", 1) == {}
    assert ok(run_ama("reserve-version", "--txid", "t1", cwd=work, env=env)).out == "tables/1 1 t1\n"
    assert view.seqs("tables") == [1], "the asset the killed run allocated is used, not another"


def test_every_example_of_docs_plumbing_runs_as_shown(tmp_path):
    """docs/plumbing.md says its examples run as shown in a repository made
    by 'ama init': all of them, in order, in one (git for the hook example)."""
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=work, env=env, check=True)
    ok(run_ama("init", "--class", "cm", "--remote", tmp_path / "remote", cwd=work, env=env))
    write_files(work, {"data/a.csv": "a,b\n", "data/sub/b.bin": bytes(range(50))})
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "docs" / "plumbing.md").read_text(), re.S)
    assert len(blocks) >= 8
    run = run_script("\n".join(blocks), work, env)
    assert run.returncode == 0, run.stderr
    assert "differs:" not in run.stdout
    view = DirView(tmp_path / "remote")
    head = view.head("cm", 1)
    assert head is not None and head["version"] == 1, "the publishing example published version 1"
    assert ok(run_ama("log", "--oneline", cwd=work, env=env)).out.endswith("cm/1/1 first version\n")
    assert os.access(work / ".git" / "hooks" / "pre-commit", os.X_OK)

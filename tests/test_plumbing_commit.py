"""A shell script of plumbing commands reproduces what 'ama commit' writes.

docs/design.md: "A shell script made only of plumbing commands must be able to
reproduce what 'ama commit' does, to the same commit hash when the author
and time are fixed". The twin repository commits the same files with
'ama commit'; both run outside git, where commits carry no provenance.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import AMA, ok, run_ama
from txn_helpers import DirView, txn_env, write_files

V1 = {"a.txt": "alpha\n", "sub/b.bin": bytes(range(200)), "sub/deep/c.txt": "gamma\n", "run.sh": "#!/bin/sh\n"}
V2 = {"a.txt": "alpha, edited\n", "sub/new.txt": "new\n"}

SCRIPT = r"""
set -euo pipefail
stage() {  # stage FILE...: store each content, then record it in the index
    for f in "$@"; do ama hash-object -w "$f" >/dev/null; done
    ama update-index --add "$@"
}
publish() {  # publish VERSION MESSAGE [PARENT]: print the commit id
    tree=$(ama write-tree)
    commit=$(ama commit-tree "$tree" --asset data/1 --version "$1" -m "$2" ${3:+-p "$3"})
    ama push-staged >/dev/null
    ama update-ref assets/data/1 "$commit" "${3:-0000000000000000000000000000000000000000000000000000000000000000}"
    echo "$commit"
}

stage a.txt sub/b.bin sub/deep/c.txt run.sh
v1=$(publish 1 "first version")
printf 'alpha, edited\n' > a.txt.new && mv a.txt.new a.txt
printf 'new\n' > sub/new.txt
stage a.txt sub/new.txt
v2=$(publish 2 "second version" "$v1")
echo "$v1 $v2"
"""


def make_tree(work: Path, env: dict[str, str], remote: Path) -> None:
    work.mkdir()
    ok(run_ama("init", "--class", "data", "--remote", remote, cwd=work, env=env))
    write_files(work, V1)
    os.chmod(work / "run.sh", 0o755)


def test_plumbing_script_reproduces_ama_commit(tmp_path):
    assert not any((p / ".git").exists() for p in [tmp_path, *tmp_path.parents]), "must run outside git"
    env = txn_env(tmp_path / "home")

    twin = tmp_path / "twin"
    make_tree(twin, env, tmp_path / "twin-remote")
    ok(run_ama("add", ".", cwd=twin, env=env))
    ok(run_ama("commit", "-m", "first version", cwd=twin, env=env))
    twin_v1 = (twin / ".ama/refs/assets/data/1").read_text().strip()
    write_files(twin, V2)
    ok(run_ama("add", ".", cwd=twin, env=env))
    ok(run_ama("commit", "-m", "second version", cwd=twin, env=env))
    twin_v2 = (twin / ".ama/refs/assets/data/1").read_text().strip()

    work = tmp_path / "plumbing"
    make_tree(work, env, tmp_path / "remote")
    script_env = {**env, "PATH": os.path.dirname(AMA) + os.pathsep + env["PATH"]}
    run = subprocess.run(["bash", "-c", SCRIPT], cwd=work, env=script_env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    v1, v2 = run.stdout.split()

    assert (v1, v2) == (twin_v1, twin_v2)
    assert (work / ".ama/refs/assets/data/1").read_text().strip() == v2
    log = (work / ".ama/logs/assets/data/1").read_text().splitlines()
    assert [line.split()[:2] for line in log] == [["0" * 64, v1], [v1, v2]]
    # push-staged sent every content of both versions, verified.
    contents = DirView(tmp_path / "remote").objects()
    twin_contents = DirView(tmp_path / "twin-remote").objects()
    assert set(contents) <= set(twin_contents)
    assert len(contents) == len(V1) + len(V2)


def test_commit_tree_refuses_what_could_not_be_read_back(tmp_path):
    from conftest import one_line_error

    from ama.objects import Commit

    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    make_tree(work, env, tmp_path / "remote")
    ok(run_ama("add", ".", cwd=work, env=env))
    tree = ok(run_ama("write-tree", cwd=work, env=env)).out.strip()
    objects_before = sorted(p.name for p in (work / ".ama/objects").rglob("*"))
    bad = [
        ["--asset", "data", "--version", "1"],
        ["--asset", "data/x", "--version", "1"],
        ["--asset", "data/1", "--version", "0"],
        ["--asset", "data/1", "--version", "1", "--meta", "two words=1"],
        ["--asset", "data/1", "--version", "1", "--input", "other/1/1=not-an-id"],
        ["--asset", "data/1", "--version", "1", "--input", f"other 1/1={'a' * 64}"],
    ]
    for args in bad:
        line = one_line_error(run_ama("commit-tree", tree, "-m", "m", *args, cwd=work, env=env), 2)
        assert line.startswith("ama commit-tree: --"), line
    assert sorted(p.name for p in (work / ".ama/objects").rglob("*")) == objects_before

    # A commit naming no asset version (hand-made) is reported, not a crash.
    stray = work / "stray"
    stray.write_bytes(Commit(tree=tree, asset="nothing", version=1, author="A <a@b>", time=0, tz="+0000",
                             message="m").serialize())
    commit_id = ok(run_ama("hash-object", "-w", "stray", cwd=work, env=env)).out.strip()
    assert "names no asset version" in one_line_error(run_ama("rev-parse", commit_id, cwd=work, env=env), 6)

"""A shell script of plumbing commands reproduces what 'ama commit' writes.

DESIGN.md: "A shell script made only of plumbing commands must be able to
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

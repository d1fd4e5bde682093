"""Plumbing composes: shell scripts of hash-object, update-index and
write-tree reproduce what the porcelain stages, to the same tree id."""

import os
import shutil
import subprocess

import pytest
from blake3 import blake3
from conftest import AMA, ok, one_line_error, read_index, tree_state, write

from ama.errors import EXIT_NOT_FOUND, EXIT_USAGE

# Runs in the work tree with the data files listed as arguments.
BY_PATH = r"""
set -euo pipefail
ama hash-object -w "$@" >/dev/null
ama update-index --add "$@"
ama write-tree
"""

# Stages contents by id, without the files being in the work tree at all:
# $1 is a directory holding them, the rest are their names.
BY_CACHEINFO = r"""
set -euo pipefail
src=$1; shift
files=()
for f in "$@"; do files+=("$src/$f"); done
ids=($(ama hash-object -w "${files[@]}"))
args=()
i=0
for f in "$@"; do
    if [ -x "$src/$f" ]; then mode=100755; else mode=100644; fi
    args+=(--cacheinfo "$mode,${ids[$i]},$f")
    i=$((i + 1))
done
ama update-index "${args[@]}"
ama write-tree
"""


@pytest.fixture
def data(tmp_path):
    """A small tree: nested directories, an executable, an empty file, a
    name with a space."""
    d = tmp_path / "data"
    write(d / "top.bin", b"top level\n")
    write(d / "a" / "one.csv", b"x,y\n1,2\n")
    write(d / "a" / "b" / "deep name.txt", b"deep\n")
    write(d / "a" / "empty", b"")
    write(d / "run.sh", b"#!/bin/sh\necho hi\n")
    os.chmod(d / "run.sh", 0o755)
    return d


def names(root) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(dirpath, f), root)
        for dirpath, _, files in os.walk(root)
        if ".ama" not in dirpath.split(os.sep)
        for f in files
    )


def bash(script: str, *args, cwd, env) -> str:
    env = {**env, "PATH": os.path.dirname(AMA) + os.pathsep + env["PATH"]}
    p = subprocess.run(["bash", "-c", script, "script", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def porcelain_tree(repo, ama, data) -> str:
    shutil.copytree(data, repo, dirs_exist_ok=True)
    ok(ama("add", "."))
    return ok(ama("write-tree")).out.strip()


def test_hash_object_update_index_write_tree_reproduce_add(repo, ama, ama_env, data, tmp_path):
    expected = porcelain_tree(repo, ama, data)

    other = tmp_path / "other"
    shutil.copytree(repo / ".ama", other / ".ama")
    (other / ".ama" / "index").unlink()
    shutil.copytree(data, other, dirs_exist_ok=True)
    tree = bash(BY_PATH, *names(data), cwd=other, env=ama_env)

    assert tree == expected
    assert read_index(other).keys() == read_index(repo).keys()
    assert ok(ama("ls-files", "-s", cwd=other)).out == ok(ama("ls-files", "-s")).out


def test_update_index_cacheinfo_reproduces_add_without_the_files(repo, ama, ama_env, data, tmp_path):
    expected = porcelain_tree(repo, ama, data)

    other = tmp_path / "other"
    shutil.copytree(repo / ".ama", other / ".ama")
    (other / ".ama" / "index").unlink()
    tree = bash(BY_CACHEINFO, data, *names(data), cwd=other, env=ama_env)

    assert tree == expected
    assert names(other) == []  # nothing was written into the work tree
    # The files are not there, so stat-check sees them as deleted.
    assert ok(ama("ls-files", cwd=other)).out.splitlines() == names(data)


def test_write_tree_is_stable_and_changes_only_with_content(repo, ama, data):
    first = porcelain_tree(repo, ama, data)
    assert ok(ama("write-tree")).out.strip() == first
    ok(ama("rm", "--cached", "top.bin"))
    without = ok(ama("write-tree")).out.strip()
    assert without != first
    ok(ama("add", "top.bin"))
    assert ok(ama("write-tree")).out.strip() == first


def test_ls_tree_lists_what_write_tree_wrote(repo, ama, data):
    tree = porcelain_tree(repo, ama, data)
    rows = ok(ama("ls-tree", "-r", tree)).out.splitlines()
    listed = {row.split("\t")[1]: row.split("\t")[0].split(" ") for row in rows}
    assert sorted(listed) == names(data)
    mode, kind, digest, size = listed["run.sh"]
    assert (mode, kind, digest, size) == ("100755", "file", blake3(b"#!/bin/sh\necho hi\n").hexdigest(), "18")
    assert listed["a/empty"][0] == "100644"


def test_cacheinfo_of_an_object_not_in_the_store_is_refused(repo, ama):
    before = tree_state(repo)
    line = one_line_error(ama("update-index", "--cacheinfo", f"100644,{'ab' * 32},x.bin"), EXIT_NOT_FOUND)
    assert "hash-object -w" in line
    assert tree_state(repo) == before


@pytest.mark.parametrize("spec", ["100644,../config,x.bin", "100644,abc,x.bin", "nomode,x.bin"])
def test_malformed_cacheinfo_is_refused(repo, ama, spec):
    before = tree_state(repo)
    one_line_error(ama("update-index", "--cacheinfo", spec), EXIT_USAGE)
    assert tree_state(repo) == before


def test_update_index_remove_drops_only_entries_whose_file_is_gone(repo, ama, data):
    porcelain_tree(repo, ama, data)
    os.unlink(repo / "top.bin")
    ok(ama("update-index", "--remove", "top.bin", "a/one.csv"))
    assert "top.bin" not in read_index(repo) and "a/one.csv" in read_index(repo)


def test_update_index_refresh_reports_paths_that_need_update(repo, ama, data):
    porcelain_tree(repo, ama, data)
    os.replace(write(repo / "new", b"changed"), repo / "top.bin")
    r = ama("update-index", "--refresh")
    assert r.rc == 1
    assert r.out == "top.bin: needs update\n"

"""Sparse work trees: clone --include/--exclude, ama sparse, and what status,
commit, add, pull and restore do with files that are not materialised."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ok, one_line_error, run_ama
from e2e import Work, object_path

from ama.hashing import hash_bytes

pytest_plugins = ["fixtures_history"]

FILES = {
    "reads/a.fq": "a1\n",
    "reads/raw/r.bin": "raw1\n",
    "ref/g.fa": "g1\n",
    "top.txt": "top1\n",
}


@pytest.fixture
def origin(e2e_work: Work) -> Work:
    for rel, text in FILES.items():
        e2e_work.write(rel, text)
    e2e_work.commit("one", ".")
    return e2e_work


@pytest.fixture
def sparse(origin: Work) -> Work:
    """A clone of data/1 materialising reads/ but not reads/raw/."""
    ok(run_ama("clone", "data/1", "c", "--include", "reads/", "--exclude", "reads/raw/",
               cwd=origin.root.parent, env=origin.env))
    return Work(origin.root.parent / "c", origin.env)


def work_files(w: Work) -> list[str]:
    return sorted(
        str(p.relative_to(w.root)) for p in w.root.rglob("*")
        if p.is_file() and ".ama" not in p.relative_to(w.root).parts and p.name != ".ama-asset"
    )


def tree_lines(w: Work, version: str) -> dict[str, str]:
    """path -> "MODE KIND ID SIZE" of every file of a version."""
    lines = w.lines("ls", version, "-r", "--long")
    return {line.split("\t")[1]: line.split("\t")[0] for line in lines}


def test_clone_materialises_and_fetches_only_the_set(sparse: Work):
    assert work_files(sparse) == ["reads/a.fq"]
    assert sparse.ok("sparse", "list").out == "reads/\n!reads/raw/\n"
    assert sparse.ok("status", "--porcelain").out == ""
    assert sparse.lines("ls-files") == sorted(FILES)
    for rel, text in FILES.items():
        fetched = object_path(sparse, hash_bytes(text.encode())).exists()
        assert fetched == (rel == "reads/a.fq"), rel


def test_commit_from_a_sparse_tree_keeps_the_others_byte_identical(sparse: Work):
    sparse.write("reads/a.fq", "a2\n")
    sparse.commit("two", "reads/a.fq")
    before, after = tree_lines(sparse, "data/1/1"), tree_lines(sparse, "data/1/2")
    assert after["reads/a.fq"] != before["reads/a.fq"]
    for rel in ("reads/raw/r.bin", "ref/g.fa", "top.txt"):
        assert after[rel] == before[rel], rel
    assert sparse.ok("status", "--porcelain").out == ""


def test_add_outside_the_set_widens_it(sparse: Work):
    sparse.write("ref/new.fa", "n\n")
    sparse.ok("add", "ref/new.fa")
    assert sparse.ok("sparse", "list").out == "reads/\n!reads/raw/\n/ref/new.fa\n"
    assert sparse.ok("status", "--porcelain").out == "A  ref/new.fa\n"
    sparse.commit("with new")
    assert "ref/new.fa" in tree_lines(sparse, "data/1/2") and "ref/g.fa" in tree_lines(sparse, "data/1/2")


def test_pull_updates_unmaterialised_entries_without_fetching_them(origin: Work, sparse: Work):
    origin.write("ref/g.fa", "g2\n")
    origin.write("reads/a.fq", "a3\n")
    origin.commit("two", "ref/g.fa", "reads/a.fq")
    sparse.ok("pull")
    assert (sparse.root / "reads" / "a.fq").read_text() == "a3\n"
    assert work_files(sparse) == ["reads/a.fq"]
    staged = {line.split("\t")[1]: line.split(" ")[1] for line in sparse.lines("ls-files", "-s")}
    assert staged["ref/g.fa"] == hash_bytes(b"g2\n")
    assert not object_path(sparse, hash_bytes(b"g2\n")).exists()
    assert sparse.ok("status", "--porcelain").out == ""


def test_sparse_set_add_and_disable_change_what_is_materialised(sparse: Work):
    sparse.ok("sparse", "add", "ref/")
    assert work_files(sparse) == ["reads/a.fq", "ref/g.fa"]
    sparse.ok("sparse", "set", "top.txt")
    assert work_files(sparse) == ["top.txt"]
    assert sparse.ok("status", "--porcelain").out == ""
    sparse.ok("sparse", "disable")
    assert work_files(sparse) == sorted(FILES)
    assert sparse.ok("sparse", "list").out == ""


def test_narrowing_refuses_to_drop_changes(sparse: Work):
    (sparse.root / "reads" / "a.fq").write_text("mine\n")
    line = one_line_error(sparse("sparse", "set", "ref/"), 12)
    assert "reads/a.fq" in line
    assert sparse.ok("sparse", "list").out == "reads/\n!reads/raw/\n", "the set is unchanged"
    assert (sparse.root / "reads" / "a.fq").read_text() == "mine\n"


def test_restore_of_an_unmaterialised_file_brings_it_in(sparse: Work, tmp_path: Path):
    sparse.ok("restore", "ref/g.fa")
    assert (sparse.root / "ref" / "g.fa").read_text() == "g1\n"
    assert "/ref/g.fa" in sparse.ok("sparse", "list").out
    assert sparse.ok("status", "--porcelain").out == ""


def test_a_file_put_where_an_unmaterialised_one_is_staged_is_left_alone(sparse: Work):
    sparse.write("ref/g.fa", "someone's\n")
    sparse.ok("sparse", "set", "reads/", "top.txt")
    assert (sparse.root / "ref" / "g.fa").read_text() == "someone's\n"
    assert "ref/g.fa: untracked file would be overwritten" in one_line_error(sparse("sparse", "add", "ref/"), 12)
    assert (sparse.root / "ref" / "g.fa").read_text() == "someone's\n"


def test_add_all_and_commit_all_keep_what_is_not_materialised(sparse: Work):
    sparse.write("reads/a.fq", "a2\n")
    sparse.ok("add", ".")
    assert sparse.ok("status", "--porcelain").out == "M  reads/a.fq\n"
    sparse.write("reads/a.fq", "a3\n")
    sparse.ok("commit", "-a", "-m", "two")
    after = tree_lines(sparse, "data/1/2")
    assert sorted(after) == sorted(FILES)
    before = tree_lines(sparse, "data/1/1")
    assert all(after[rel] == before[rel] for rel in FILES if rel != "reads/a.fq")


def test_a_reference_outside_the_set_stays_unmaterialised_one_inside_is_placed(origin: Work, http_source):
    outside, inside = b"far away bytes\n" * 10, b"near bytes\n" * 10
    origin.ok("add", http_source.put("far.csv", outside), "--to", "ref/far.csv")
    origin.ok("add", http_source.put("near.csv", inside), "--to", "reads/near.csv")
    origin.ok("commit", "-m", "references")
    gets = sum(1 for m, _ in http_source.requests if m == "GET")
    ok(run_ama("clone", "data/1", "c", "--include", "reads/", "--exclude", "reads/raw/",
               cwd=origin.root.parent, env=origin.env))
    c = Work(origin.root.parent / "c", origin.env)
    assert (c.root / "reads" / "near.csv").read_bytes() == inside
    assert not (c.root / "ref" / "far.csv").exists()
    fetched = [path for m, path in http_source.requests[gets:] if m == "GET"]
    assert fetched and all("far.csv" not in p for p in fetched), "the bytes outside the set are not fetched"
    assert c.ok("status", "--porcelain").out == ""
    c.write("reads/a.fq", "a2\n")
    c.commit("two", "reads/a.fq")
    before, after = tree_lines(c, "data/1/2"), tree_lines(c, "data/1/3")
    assert after["ref/far.csv"] == before["ref/far.csv"] and after["reads/near.csv"] == before["reads/near.csv"]
    commit = c.ok("rev-parse", "data/1/3").out.strip()
    kinds = {line.split("\t")[1]: line.split(" ")[1] for line in c.lines("ls-tree", "-r", commit)}
    assert kinds["ref/far.csv"] == kinds["reads/near.csv"] == "ref"
    c.ok("sparse", "add", "ref/")
    assert (c.root / "ref" / "far.csv").read_bytes() == outside
    assert c.ok("status", "--porcelain").out == ""


def sparse_clone(origin: Work, env: dict[str, str] | None = None) -> Work:
    env = env or origin.env
    ok(run_ama("clone", "data/1", "c", "--include", "reads/", "--exclude", "reads/raw/",
               cwd=origin.root.parent, env=env))
    return Work(origin.root.parent / "c", env)


@pytest.mark.parametrize("core", ["c", "py"])
def test_status_never_reports_unmaterialised_entries_with_either_core(origin: Work, core: str):
    c = sparse_clone(origin, {**origin.env, "AMA_MODULE_POLICY": core})
    assert c.ok("status", "--porcelain").out == ""
    assert "deleted" not in c.ok("status").out
    (c.root / "reads" / "a.fq").unlink()  # saved anew, as an editor does (not through the store's hardlink)
    c.write("reads/a.fq", "a2\n")
    c.write("ref/g.fa", "someone's own file at an unmaterialised path\n")
    assert c.ok("status", "--porcelain").out == " M reads/a.fq\n"
    c.ok("commit", "-a", "-m", "two")
    before, after = tree_lines(c, "data/1/1"), tree_lines(c, "data/1/2")
    assert sorted(after) == sorted(FILES)
    assert all(after[rel] == before[rel] for rel in FILES if rel != "reads/a.fq")
    assert (c.root / "ref" / "g.fa").read_text() == "someone's own file at an unmaterialised path\n"
    assert c.ok("status", "--porcelain").out == ""


def store_objects(w: Work) -> set[str]:
    return {p.parent.name + p.name for p in (w.root / ".ama" / "objects").glob("??/*") if p.is_file()}


@pytest.mark.parametrize("command", ["pull", "switch"])
def test_pull_and_switch_fetch_only_the_objects_of_the_set(origin: Work, sparse: Work, command: str):
    for rel in FILES:
        origin.write(rel, f"{rel} version 2\n")
    origin.commit("two", ".")
    had = store_objects(sparse)
    sparse.ok(*(["pull"] if command == "pull" else ["switch", "data/1/2"]))
    fetched = store_objects(sparse) - had
    contents = {line.split(" ")[2]: rel for rel, line in tree_lines(sparse, "data/1/2").items()}
    assert sorted(contents[d] for d in fetched if d in contents) == ["reads/a.fq"]
    others = [d for d in fetched if d not in contents]
    assert {sparse.ok("cat-file", "-t", d).out.strip() for d in others} == {"commit", "tree"}
    assert len(others) == 5, "the commit and its trees (/, reads/, reads/raw/, ref/): no other content"
    assert work_files(sparse) == ["reads/a.fq"]
    assert (sparse.root / "reads" / "a.fq").read_text() == "reads/a.fq version 2\n"
    assert sparse.ok("status", "--porcelain").out == ""


@pytest.mark.parametrize("point", ["after-fetch", "checkout-temp-placed:1", "checkout-temp-placed:2",
                                   "checkout-index-written"])
@pytest.mark.parametrize("then", ["reapply", "back"])
def test_a_killed_sparse_set_leaves_a_valid_tree_the_next_command_finishes(sparse: Work, point: str, then: str):
    staged = sparse.lines("ls-files", "-s")
    killed = sparse("sparse", "set", "ref/", "top.txt", env={**sparse.env, "AMA_FAILPOINT": point})
    assert killed.rc == -9
    # Valid as it is: nothing reported deleted or changed, every file one of the version's.
    assert sparse.ok("status", "--porcelain").out == ""
    assert sparse.lines("ls-files", "-s") == staged
    for rel in work_files(sparse):
        if not Path(rel).name.startswith(".ama-tmp-"):  # (the next command removes those)
            assert (sparse.root / rel).read_text() == FILES[rel], rel
    if then == "reapply":  # finish it
        sparse.ok("sparse", "reapply")
        assert work_files(sparse) == ["ref/g.fa", "top.txt"]
    else:  # or go back to the set before
        sparse.ok("sparse", "set", "reads/", "!reads/raw/")
        assert work_files(sparse) == ["reads/a.fq"]
    assert sparse.ok("status", "--porcelain").out == ""
    assert not (sparse.root / ".ama" / "CHECKOUT").exists()
    assert sparse.lines("ls-files", "-s") == staged


@pytest.fixture(scope="module")
def fuzz_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.slow  # a fuzz trial (make test-slow)
@pytest.mark.parametrize("seed", [1, 2])
def test_sparse_set_killed_at_a_random_instant_or_failpoint_is_finished_by_the_next_run(fuzz_cache: Path, seed: int):
    import fuzz_harness as fh

    trial = fh.crash_trial(seed, fuzz_cache, command="sparse")
    assert not trial.violations, f"{trial.how}: {trial.violations}; reproduce: {trial.repro}"


def test_a_url_copied_in_outside_the_set_widens_it_a_reference_does_not(sparse: Work, http_source):
    sparse.ok("add", http_source.put("x.csv", b"copied\n"), "--to", "ref/x.csv", "--copy")
    sparse.ok("add", http_source.put("y.csv", b"referenced\n"), "--to", "ref/y.csv")
    patterns = sparse.ok("sparse", "list").out.splitlines()
    assert "/ref/x.csv" in patterns and "/ref/y.csv" not in patterns
    sparse.ok("sparse", "reapply")
    assert (sparse.root / "ref" / "x.csv").read_bytes() == b"copied\n"
    assert not (sparse.root / "ref" / "y.csv").exists()
    assert sparse.ok("status", "--porcelain").out == "A  ref/x.csv\nA  ref/y.csv\n"


def test_changing_the_set_keeps_what_is_staged(sparse: Work):
    sparse.write("reads/new.fq", "new\n")
    (sparse.root / "reads" / "a.fq").unlink()
    sparse.write("reads/a.fq", "a2\n")
    sparse.ok("add", "reads/")
    sparse.ok("rm", "top.txt")
    sparse.ok("sparse", "add", "ref/")
    assert work_files(sparse) == ["reads/a.fq", "reads/new.fq", "ref/g.fa"]
    assert sparse.ok("status", "--porcelain").out == "M  reads/a.fq\nA  reads/new.fq\nD  top.txt\n"
    sparse.ok("sparse", "set", "ref/")
    assert work_files(sparse) == ["ref/g.fa"]
    assert sparse.ok("status", "--porcelain").out == "M  reads/a.fq\nA  reads/new.fq\nD  top.txt\n"
    sparse.commit("staged changes, committed from a narrower set")
    after = tree_lines(sparse, "data/1/2")
    assert sorted(after) == ["reads/a.fq", "reads/new.fq", "reads/raw/r.bin", "ref/g.fa"]
    sparse.ok("sparse", "disable")
    assert (sparse.root / "reads" / "a.fq").read_text() == "a2\n"
    assert (sparse.root / "reads" / "new.fq").read_text() == "new\n"


def test_mv_of_an_unmaterialised_file_says_so_and_moves_nothing(sparse: Work):
    line = one_line_error(sparse("mv", "ref/g.fa", "g.fa"), 4)
    assert "ref/g.fa: is not materialised (outside the sparse set); 'ama sparse add ref/g.fa' first" in line
    assert "ref/g.fa" in sparse.lines("ls-files")
    sparse.ok("sparse", "add", "ref/")
    sparse.ok("mv", "ref/g.fa", "g.fa")
    assert (sparse.root / "g.fa").read_text() == "g1\n"


def test_mv_out_of_the_sparse_set_widens_it_and_keeps_what_is_not_materialised(sparse: Work):
    sparse.ok("mv", "reads", "moved")
    assert work_files(sparse) == ["moved/a.fq"]
    assert "/moved/a.fq" in sparse.ok("sparse", "list").out
    sparse.ok("sparse", "reapply")
    assert work_files(sparse) == ["moved/a.fq"], "the moved file stays materialised"
    assert set(sparse.lines("ls-files")) == {"moved/a.fq", "moved/raw/r.bin", "ref/g.fa", "top.txt"}
    assert sparse.ok("status", "--porcelain").out.splitlines() == [
        "R  reads/a.fq -> moved/a.fq",
        "R  reads/raw/r.bin -> moved/raw/r.bin",
    ]


def test_status_says_the_tree_is_sparse_and_how_much_is_materialised(sparse: Work, origin: Work):
    lines = sparse.lines("status")
    assert lines[1] == "You are in a sparse work tree: 1 of 4 tracked files are materialised ('ama sparse list' shows the set)"
    assert sparse.ok("status", "--porcelain").out == "", "scripts see no change"
    sparse.ok("sparse", "disable")
    assert not any("sparse" in line for line in sparse.lines("status"))
    assert not any("sparse" in line for line in origin.lines("status"))


def test_status_names_the_sparse_file_as_the_sparse_module_does():
    # status does not import ama.sparse for its file name (start-up time)
    from ama import sparse
    from ama.porcelain import status

    assert status.SPARSE_FILE == sparse.FILE

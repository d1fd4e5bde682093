"""ama fetch, pull, remote, config, alias, inputs and ls-remote, end to end:
two work trees sharing a remote, as two people (or machines) would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import one_line_error, read_index, run_ama, tree_state
from e2e import Work, make_env, object_path

from ama.objects import Commit

pytest_plugins = ["fixtures_history"]


@pytest.fixture
def pair(tmp_path: Path, e2e_env: dict[str, str]) -> tuple[Work, Work]:
    """Work tree ``a`` committed data/1/1 (a.txt, b.txt); ``b`` is a clone of it."""
    a = Work(tmp_path / "data", e2e_env)
    a.ok("init")
    a.write("a.txt", "a1\n")
    a.write("b.txt", "b1\n")
    a.commit("one", "a.txt", "b.txt")
    return a, a.clone("data/1", "b")


def ref(work: Work, asset: str = "data/1") -> str:
    return (work.root / ".ama" / "refs" / "assets" / asset).read_text().strip()


def head_fields(work: Work) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in (work.root / ".ama" / "HEAD").read_text().splitlines())


def stored_commit(work: Work, commit_id: str) -> Commit:
    return Commit.parse(object_path(work, commit_id).read_bytes(), commit_id)


# -- fetch and pull ------------------------------------------------------------


def test_fetch_then_pull_carries_staged_work_onto_the_new_version(pair):
    a, b = pair
    v1 = ref(a)
    a.write("a.txt", "a2\n")
    a.write("c.txt", "c2\n")
    a.commit("two", "a.txt", "c.txt")
    v2 = ref(a)
    b.write("n.txt", "mine\n")
    b.ok("add", "n.txt")

    r = b.ok("fetch")
    assert r.out == "asset data/1: version 2 (was 1)\n"
    assert ref(b) == v2
    log = (b.root / ".ama" / "logs" / "assets" / "data" / "1").read_text().splitlines()
    assert log[-1] == f"{v1} {v2} Test Author <test@example.com> 1700000000 +0100\tfetch"
    assert object_path(b, stored_commit(b, v2).tree).exists()
    assert head_fields(b)["version"] == "1" and (b.root / "a.txt").read_text() == "a1\n"
    r = b.ok("fetch")
    assert r.out == "asset data/1: up to date (version 2)\n"
    assert "'ama pull'" in r.err

    assert b.ok("pull").out == "asset data/1: version 2 (was version 1): 2 file(s) written, 0 removed\n"
    assert head_fields(b) == {"class": "data", "seq": "1", "version": "2", "commit": v2}
    assert (b.root / "a.txt").read_text() == "a2\n" and (b.root / "c.txt").read_text() == "c2\n"
    assert sorted(read_index(b.root)) == ["a.txt", "b.txt", "c.txt", "n.txt"]
    assert b.ok("status", "--porcelain").out == "A  n.txt\n"
    b.ok("commit", "-m", "three")
    v3 = ref(b)
    assert stored_commit(b, v3).parent == v2 and stored_commit(b, v3).version == 3

    assert a.ok("pull").out.startswith("asset data/1: version 3 (was version 2)")
    assert (a.root / "n.txt").read_text() == "mine\n"
    assert a.ok("status", "--porcelain").out == ""
    assert a.ok("pull").out == "asset data/1: already up to date (version 3)\n"


def test_pull_stops_on_unstaged_changes_and_conflicts(pair):
    a, b = pair
    a.write("a.txt", "a2\n")
    a.write("b.txt", "b2\n")
    a.commit("two", "a.txt", "b.txt")
    (b.root / "b.txt").open("a").write("edited in place\n")
    before = tree_state(b.root)
    assert "b.txt: has changes that are not staged" in one_line_error(b("pull"), 12)
    # What was fetched stays fetched (as with 'ama fetch'); nothing else moved.
    after = tree_state(b.root)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed and all(k.startswith(("objects/", "refs/", "logs/")) for k in changed), changed
    assert head_fields(b)["version"] == "1"

    b.ok("add", "b.txt")
    assert "b.txt: staged here and changed differently" in one_line_error(b("pull"), 8)
    assert (b.root / "b.txt").read_text() == "b1\nedited in place\n"
    b.ok("pull", "--force")
    assert (b.root / "a.txt").read_text() == "a2\n" and (b.root / "b.txt").read_text() == "b2\n"
    assert b("diff").rc == 0

    # checkout, like pull, never drops work that was staged and not committed.
    b.write("x.txt", "staged only\n")
    b.ok("add", "x.txt")
    assert "x.txt: has staged changes that are not committed" in one_line_error(b("checkout", "data/1/1"), 12)
    assert (b.root / "x.txt").read_text() == "staged only\n" and head_fields(b)["version"] == "2"


def test_fetch_and_pull_refuse_what_they_cannot_do(e2e_work):
    assert "no commits yet" in one_line_error(e2e_work("fetch"), 2)
    pending = {"txid": "t", "class": "data", "tree": "0" * 64, "message": "m", "author": "x", "time": 0,
               "tz": "+0000", "remote": "origin", "seq": 1, "version": 2}
    (e2e_work.root / ".ama" / "PENDING").write_text(json.dumps(pending))
    assert "was interrupted" in one_line_error(e2e_work("pull"), 9)


# -- remote and config ---------------------------------------------------------


def test_remote_add_list_default_remove(e2e_work, tmp_path):
    store = str(tmp_path / "home" / "store")
    assert e2e_work.lines("remote", "list") == ["origin"]
    e2e_work.ok("remote", "add", "backup", "../bk", "--endpoint", "http://127.0.0.1:9")
    assert e2e_work.lines("remote", "list", "-v") == [
        f"  backup\t{tmp_path / 'bk'} (endpoint http://127.0.0.1:9)",
        f"* origin\t{store}",
    ]
    assert "already exists" in one_line_error(e2e_work("remote", "add", "backup", "/x"), 2)
    assert "not supported" in one_line_error(e2e_work("remote", "add", "web", "http://x/y"), 2)
    assert "bad remote name" in one_line_error(e2e_work("remote", "add", "bad/name", "/x"), 2)

    e2e_work.ok("remote", "set-default", "backup")
    assert e2e_work.lines("config", "core.remote") == ["backup"]
    assert e2e_work.lines("remote", "list", "-v")[0].startswith("* backup\t")
    e2e_work.ok("remote", "remove", "backup")
    assert e2e_work.lines("remote", "list") == ["origin"]
    assert e2e_work("config", "core.remote").rc == 1
    assert "no remote named 'backup'" in one_line_error(e2e_work("remote", "remove", "backup"), 2)


def test_config_get_set_unset_list(e2e_work):
    assert e2e_work.lines("config", "core.linkmode") == ["auto"]
    r = e2e_work("config", "core.nothing")
    assert (r.rc, r.out, r.err) == (1, "", "")
    e2e_work.ok("config", "remote.origin.endpoint", "http://127.0.0.1:9")
    e2e_work.ok("config", "core.linkmode", "copy")
    listed = e2e_work.lines("config", "--list")
    assert "core.linkmode=copy" in listed and "remote.origin.endpoint=http://127.0.0.1:9" in listed
    e2e_work.ok("config", "--unset", "remote.origin.endpoint")
    assert e2e_work("config", "--unset", "remote.origin.endpoint").rc == 1
    before = tree_state(e2e_work.root)
    assert "must be one of" in one_line_error(e2e_work("config", "core.linkmode", "sideways"), 2)
    assert "bad config key" in one_line_error(e2e_work("config", "nodot", "x"), 2)
    assert tree_state(e2e_work.root) == before


# -- alias and inputs ------------------------------------------------------------


def test_alias_names_an_asset_everywhere(e2e_work, tmp_path):
    assert "no commits yet" in one_line_error(e2e_work("alias", "set", "best"), 2)
    e2e_work.write("f", "v1\n")
    e2e_work.commit("one", "f")
    other = Work(tmp_path / "other", e2e_work.env)
    other.ok("init", "--class", "data")
    other.write("g", "g\n")
    other.commit("other asset", "g")

    assert e2e_work.lines("alias", "set", "best") == ["data/best -> data/1"]
    assert "not only digits" in one_line_error(e2e_work("alias", "set", "42"), 2)
    assert "already names data/1" in one_line_error(other("alias", "set", "best"), 8)
    assert e2e_work.lines("alias", "list") == ["best\tdata/1"]
    cloned = other.clone("data/best/1", "via-alias")
    assert (cloned.root / "f").read_text() == "v1\n"
    other.ok("alias", "set", "best", "--force")
    assert other.lines("alias", "list", "data") == ["best\tdata/2"]
    assert other.lines("rev-parse", "--version", "data/best") == [f"data/2/1 {ref(other, 'data/2')}"]


def test_inputs_are_recorded_by_the_next_commit(history, tmp_path):
    w = Work(tmp_path / "model", history.env)
    w.ok("init")
    w.ok("inputs", "add", "raw/1", "data/1/2")
    assert w.lines("inputs", "list") == [f"data/1/2\t{history.ids[2]}", f"raw/1/1\t{history.raw_id}"]
    w.ok("inputs", "add", "data/1/1")
    w.ok("inputs", "rm", "raw/1")
    assert w.lines("inputs", "list") == [f"data/1/1\t{history.ids[1]}"]
    assert "no input named" in one_line_error(w("inputs", "rm", "raw/1"), 11)
    w.ok("inputs", "clear")
    assert w.lines("inputs", "list") == []
    w.ok("inputs", "add", "raw/1/1")
    w.write("weights", "0.5\n")
    w.commit("trained", "weights")
    assert f"Input:  raw/1/1 {history.raw_id}" in w.lines("show")
    assert w.lines("inputs", "list") == []
    assert "is this asset" in one_line_error(w("inputs", "add", "model/1"), 2)


# -- ls-remote -------------------------------------------------------------------


def test_ls_remote_lists_assets_and_versions(history, tmp_path):
    ids = history.ids
    listed = history.data.lines("ls-remote")
    assert f"data/1\t3\t{ids[3]}" in listed and f"raw/1\t1\t{history.raw_id}" in listed
    assert history.data.lines("ls-remote", "raw") == [f"raw/1\t1\t{history.raw_id}"]
    assert history.data.lines("ls-remote", "data/1") == [f"data/1/{n}\tcommitted\t{ids[n]}" for n in (1, 2, 3)]
    outside = tmp_path / "outside"
    outside.mkdir()
    r = run_ama("ls-remote", "-z", "raw", "--url", history.home / "store", cwd=outside, env=history.env)
    assert (r.rc, r.out) == (0, f"raw/1\t1\t{history.raw_id}\0")
    assert history.data("ls-remote", "nosuchclass").out == ""
    one_line_error(history.data("ls-remote", "data/7"), 11)


# -- the same flow on S3 ------------------------------------------------------------


def test_history_commands_read_an_s3_remote(history, remote_url, tmp_path):
    """The remote layout is the same on S3 as in a directory, so the
    session's history is copied into a bucket as is, and read back."""
    from remote_fixtures import _admin_client

    s3 = remote_url("s3-http")
    aws = {k: v for k, v in s3.env.items() if k.startswith(("AWS_", "AMA_S3_")) or k == "NO_PROXY"}
    endpoint = aws["AWS_ENDPOINT_URL_S3"]
    bucket, prefix = s3.url[5:].split("/", 1)
    store = history.home / "store"
    client = _admin_client(endpoint)
    for path in store.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            client.put_object(Bucket=bucket, Key=f"{prefix}/{path.relative_to(store)}", Body=path.read_bytes())
    b = Work(tmp_path / "b", make_env(tmp_path, **aws))
    b.ok("clone", "data/1", ".", "--remote", s3.url, "--endpoint", endpoint)
    assert [line.split()[1] for line in b.lines("log", "--oneline")] == ["data/1/3", "data/1/2", "data/1/1"]
    assert f"data/1\t3\t{history.ids[3]}" in b.lines("ls-remote")

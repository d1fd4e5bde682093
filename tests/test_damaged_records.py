"""Every damaged record is one line naming it, exit 6: never exit 70, never
silent, never a wrong version.

Local files (.ama/HEAD, config, refs, PENDING, INPUTS, CHECKOUT) and the
remote's JSON records (asset HEAD, version records, aliases) are checked
field by field by ama.records and the readers of the plain-text files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import one_line_error, run_ama
from e2e import Work, make_env

PENDING = {"format": 1, "txid": "t", "class": "data", "tree": "0" * 64, "message": "m", "author": "x",
           "time": 0, "tz": "+0000", "remote": "origin", "seq": 1, "version": 2}


@pytest.fixture
def w(tmp_path) -> Work:
    """data/1 with versions 1 and 2 on $HOME/store; the work tree is at 2."""
    work = Work(tmp_path / "work", make_env(tmp_path / "home"))
    work.ok("init", "--class", "data")
    work.write("a.txt", "one\n")
    work.commit("one", ".")
    work.write("a.txt", "two\n")
    work.commit("two", ".")
    return work


def store(w: Work) -> Path:
    return Path(w.env["AMA_HOME"]) / "store"


def damage(w: Work, rel: str, data: bytes) -> None:
    (w.root / ".ama" / rel).write_bytes(data)


@pytest.mark.parametrize("data", [b"\xff\xfe garbage\n", b"class data\nseq one\n", b"class data\ncommit zz\n",
                                  b"class ../x\n", b"seq 1\n"])
def test_a_damaged_head_is_named_and_init_class_repairs_it(w, data):
    damage(w, "HEAD", data)
    for cmd in (["status"], ["log"], ["commit", "-m", "x"], ["checkout", "data/1/1"]):
        assert ".ama/HEAD" in one_line_error(w(*cmd), 6)
    assert "rewritten" in w.ok("init", "--class", "data").err
    w.ok("checkout", "data/1/1")
    assert (w.root / "a.txt").read_text() == "one\n"


@pytest.mark.parametrize("data", [b"\xff\xfe\n", b"[core]\nlinkmode = sideways\n",
                                  b"[core]\nformatversion = 2\n"])
def test_a_damaged_config_is_named(w, data):
    damage(w, "config", data)
    assert ".ama/config" in one_line_error(w("add", "a.txt"), 6)


def test_a_damaged_ref_is_named(w):
    damage(w, "refs/assets/data/1", b"\xff" * 64 + b"\n")
    assert ".ama/refs/assets/data/1" in one_line_error(w("fetch"), 6)


@pytest.mark.parametrize("change, named", [
    ({"class": None}, "'class' is missing"),
    ({"surprise": 1}, "unknown field 'surprise'"),
    ({"seq": "one"}, "'seq'"),
    ({"tree": "../../x"}, "'tree'"),
    ({"format": 2}, "upgrade"),
])
def test_a_damaged_pending_record_is_named(w, change, named):
    record = {**PENDING, **change}
    record = {k: v for k, v in record.items() if v is not None}
    damage(w, "PENDING", json.dumps(record).encode())
    for cmd in (["commit", "-m", "x"], ["pull"]):
        line = one_line_error(w(*cmd), 6)
        assert ".ama/PENDING" in line and named in line
    assert "PENDING cannot be read" in w.ok("status").out, "status shows it, as docs/status-format.md says"


def test_damaged_inputs_never_reach_a_commit(w):
    damage(w, "INPUTS", b'{"format": 1}\n')
    w.write("a.txt", "three\n")
    w.ok("add", "a.txt")
    assert ".ama/INPUTS" in one_line_error(w("commit", "-m", "three"), 6)
    assert not (store(w) / "assets" / "data" / "1" / "versions" / "3.json").exists()


def test_a_damaged_checkout_marker_is_read_as_none(w):
    damage(w, "CHECKOUT", b"\xff\xfe")
    w.ok("checkout", "data/1/1")
    assert not (w.root / ".ama" / "CHECKOUT").exists()


@pytest.mark.parametrize("record", [{"version": 1}, {"version": "1", "commit": "0" * 64},
                                    {"version": 1, "commit": "../../etc"}, [1, 2]])
def test_a_damaged_remote_head_is_named(w, record):
    (store(w) / "assets" / "data" / "1" / "HEAD").write_text(json.dumps(record))
    for cmd in (["ls-remote"], ["fetch"], ["pull"]):
        assert "assets/data/1/HEAD" in one_line_error(w(*cmd), 6)
    line = one_line_error(run_ama("clone", "data/1", "c", cwd=w.root.parent, env=w.env), 6)
    assert "assets/data/1/HEAD" in line
    assert not (w.root.parent / "c").exists()


@pytest.mark.parametrize("change", [{"commit": None}, {"commit": 42}, {"status": "done"}, {"version": 0}])
def test_a_damaged_version_record_is_named(w, change):
    path = store(w) / "assets" / "data" / "1" / "versions" / "1.json"
    record = {**json.loads(path.read_text()), **change}
    path.write_text(json.dumps({k: v for k, v in record.items() if v is not None}))
    line = one_line_error(run_ama("clone", "data/1/1", "c", cwd=w.root.parent, env=w.env), 6)
    assert "versions/1.json" in line
    assert "versions/1.json" in one_line_error(w("versions"), 6)


def test_a_remote_record_of_a_newer_format_asks_for_an_upgrade(w):
    path = store(w) / "assets" / "data" / "1" / "HEAD"
    path.write_text(json.dumps({**json.loads(path.read_text()), "format": 2}))
    assert "upgrade" in one_line_error(w("fetch"), 6)

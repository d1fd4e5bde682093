"""checkout and clone never write outside the work tree (invariant 5).

Versions are crafted by hand (tree and commit objects written with
ama.objects, records with ama.assets) and published on a directory remote
as committed versions, as a hostile or broken writer could. Names with
'..', absolute names, names inside .ama/, paths through a symlinked
directory and malformed object ids must be refused with one line, and
nothing may change outside the work tree (nor in the work tree itself).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from conftest import ok, one_line_error, run_ama
from txn_helpers import b3, txn_env

from ama.assets import Assets
from ama.objects import MODE_FILE, MODE_TREE, TREE_MAGIC, Commit, TreeEntry, serialize_tree
from ama.remote.local import LocalRemote

CLS = "data"


class Crafter:
    """Builds trees bottom-up, keeping every object it makes."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def add(self, data: bytes) -> str:
        digest = b3(data)
        self.objects[digest] = data
        return digest

    def file(self, name: str, data: bytes = b"evil\n") -> TreeEntry:
        return TreeEntry(name, MODE_FILE, "file", self.add(data), len(data))

    def tree(self, name: str, entries: list[TreeEntry]) -> TreeEntry:
        return TreeEntry(name, MODE_TREE, "tree", self.add(serialize_tree(entries)),
                         sum(e.size for e in entries))

    def publish(self, remote_dir: Path, entries: list[TreeEntry]) -> str:
        """Publish a committed version whose root tree holds ``entries``; its name."""
        return self.publish_root(remote_dir, self.add(serialize_tree([*entries, self.file("ok.txt", b"harmless\n")])))

    def publish_root(self, remote_dir: Path, root: str, message: bytes | None = None) -> str:
        """Publish a committed version of root tree ``root``; its name.
        ``message`` replaces the commit's message bytes (raw)."""
        remote = LocalRemote(str(remote_dir))
        assets = Assets(remote)
        seq = assets.allocate_seq(CLS, "crafted", "mallory")
        commit = Commit(tree=root, asset=f"{CLS}/{seq}", version=1, author="Mallory <m@example.com>",
                        time=1700000000, tz="+0000", message="crafted\n")
        data = commit.serialize()
        if message is not None:
            data = data[: data.index(b"\n\n") + 2] + message
        commit_id = self.add(data)
        with tempfile.TemporaryDirectory() as tmp:
            for digest, data in self.objects.items():
                path = os.path.join(tmp, digest)
                Path(path).write_bytes(data)
                remote.put_object(digest, path)
        n = assets.reserve_version(CLS, seq, None, "crafted", "mallory")
        assets.commit_version(CLS, seq, n, "crafted", {"commit": commit_id, "tree": root})
        assets.advance_head(CLS, seq, n, commit_id, None)
        return f"{CLS}/{seq}/{n}"


def snapshot(top: Path, skip: tuple[Path, ...]) -> dict[str, tuple]:
    """Every path under ``top`` (not following symlinks) with its type, size
    and mtime, leaving out the trees in ``skip``."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if Path(dirpath, d) not in skip]
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            state[os.path.relpath(os.path.join(dirpath, name), top)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return state


@pytest.fixture
def world(tmp_path: Path):
    """tmp/{work (a repo on tmp/remote), elsewhere/ (outside it), home}."""
    env = txn_env(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "target").write_text("not yours\n")
    ok(run_ama("init", "--class", CLS, "--remote", tmp_path / "remote", cwd=work, env=env))
    return tmp_path, work, env


def hostile_entries(c: Crafter, elsewhere: Path) -> dict[str, list[TreeEntry]]:
    return {
        "dotdot": [c.file("../x")],
        "absolute": [c.file(str(elsewhere / "abs"))],
        "ama-dir": [c.tree(".ama", [c.file("x")])],
        "ama-name": [c.file(".ama/x")],
        "climb-nested": [c.tree("a", [c.tree("..", [c.tree("..", [c.file("x")])])])],
        "climb-name": [c.file("a/../../x")],
        "git-dir": [c.tree(".git", [c.tree("hooks", [c.file("post-checkout")])])],
        "git-nested": [c.tree("sub", [c.tree(".git", [c.tree("hooks", [c.file("post-checkout")])])])],
        "git-upper": [c.tree(".Git", [c.file("config")])],
        "ama-nested": [c.tree("sub", [c.tree(".AMA", [c.file("config")])])],
        "pointer": [c.file(".ama-asset", b"asset: other/1\nversion: 1\ncommit: " + b"0" * 64 + b"\n")],
        "amaignore": [c.file(".amaignore", b"*\n")],
        "backslash": [c.file("back\\slash")],
        "too-long": [c.file("x" * 256)],
        # An id that is a path: the local store must not be asked to put it anywhere.
        "bad-id": [TreeEntry("bad.txt", MODE_FILE, "file", "ab" + str(elsewhere / "newdir" / "evil"), 5)],
    }


CASES = ["dotdot", "absolute", "ama-dir", "ama-name", "climb-nested", "climb-name", "git-dir", "git-nested",
         "git-upper", "ama-nested", "pointer", "amaignore", "backslash", "too-long", "bad-id"]


# Every case runs in CI (make test-slow); make test keeps one of each family.
QUICK = {"dotdot", "absolute", "ama-nested", "git-upper", "bad-id"}


@pytest.mark.parametrize("case", [c if c in QUICK else pytest.param(c, marks=pytest.mark.slow) for c in CASES])
def test_checkout_and_clone_refuse_hostile_names(world, case):
    tmp, work, env = world
    c = Crafter()
    name = c.publish(tmp / "remote", hostile_entries(c, tmp / "elsewhere")[case])
    keep_out = (work / ".ama", tmp / "home", tmp / "remote")

    before = snapshot(tmp, keep_out)
    line = one_line_error(run_ama("checkout", name, cwd=work, env=env), 6 if case == "bad-id" else 4)
    assert "refus" in line or "malformed" in line, line
    assert snapshot(tmp, keep_out) == before
    assert "commit" not in (work / ".ama" / "HEAD").read_text(), "HEAD must not move to a refused version"
    assert not (work / ".ama" / "refs" / "assets" / CLS).exists() or not any(
        (work / ".ama" / "refs" / "assets" / CLS).iterdir()
    ), "no ref to a refused version"

    clone = tmp / "clone"
    line = one_line_error(
        run_ama("clone", "--remote", tmp / "remote", name, clone, cwd=tmp, env=env), 6 if case == "bad-id" else 4
    )
    assert not clone.exists(), "a failed clone removes what it created"
    assert snapshot(tmp, keep_out) == before


def test_checkout_refuses_a_path_through_a_symlinked_directory(world):
    tmp, work, env = world
    (work / "link").symlink_to(tmp / "elsewhere")
    c = Crafter()
    name = c.publish(tmp / "remote", [c.tree("link", [c.file("file"), c.file("target", b"overwritten\n")])])
    keep_out = (work / ".ama", tmp / "home", tmp / "remote")
    before = snapshot(tmp, keep_out)
    line = one_line_error(run_ama("checkout", name, cwd=work, env=env), 4)
    assert "link" in line and "symlink" in line
    assert snapshot(tmp, keep_out) == before
    assert (tmp / "elsewhere" / "target").read_text() == "not yours\n"


def test_checkout_replaces_a_symlink_named_like_a_file_without_following_it(world):
    tmp, work, env = world
    (work / "link").symlink_to(tmp / "elsewhere" / "target")
    c = Crafter()
    name = c.publish(tmp / "remote", [c.file("link", b"mine\n")])
    ok(run_ama("checkout", "--force", name, cwd=work, env=env))
    assert (tmp / "elsewhere" / "target").read_text() == "not yours\n"
    assert not (work / "link").is_symlink() and (work / "link").read_bytes() == b"mine\n"


def test_control_file_names_below_the_root_are_ordinary_files(world):
    tmp, work, env = world
    c = Crafter()
    name = c.publish(tmp / "remote", [c.tree("sub", [c.file(".amaignore", b"rules\n"), c.file(".ama-asset", b"x\n")])])
    ok(run_ama("checkout", name, cwd=work, env=env))
    assert (work / "sub" / ".amaignore").read_bytes() == b"rules\n"
    assert (work / "sub" / ".ama-asset").read_bytes() == b"x\n"


def raw_tree(*lines: bytes) -> bytes:
    return TREE_MAGIC + b"".join(lines)


MALFORMED = {
    # name: (root tree bytes given a Crafter, what the error line says)
    "non-utf8-name": (lambda c: raw_tree(b"100644 file %s 5\t\xff\xfe.bin\n" % c.add(b"evil\n").encode()),
                      "not UTF-8"),
    "duplicate-name": (lambda c: raw_tree(*[b"100644 file %s 5\tsame\n" % c.add(b"evil\n").encode()] * 2),
                       "twice"),
    "unknown-kind": (lambda c: raw_tree(b"100644 reference %s 5\tref.bin\n" % c.add(b"evil\n").encode()),
                     "does not know"),
    "mode-of-a-tree": (lambda c: raw_tree(b"040000 file %s 5\tf\n" % c.add(b"evil\n").encode()),
                       "malformed"),
    "negative-size": (lambda c: raw_tree(b"100644 file %s -5\tf\n" % c.add(b"evil\n").encode()),
                      "malformed"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_hash_valid_but_malformed_trees_are_refused(world, case):
    tmp, work, env = world
    c = Crafter()
    build, said = MALFORMED[case]
    name = c.publish_root(tmp / "remote", c.add(build(c)))
    keep_out = (work / ".ama", tmp / "home", tmp / "remote")
    before = snapshot(tmp, keep_out)
    assert said in one_line_error(run_ama("checkout", name, cwd=work, env=env), 6)
    assert snapshot(tmp, keep_out) == before
    one_line_error(run_ama("clone", "--remote", tmp / "remote", name, tmp / "clone", cwd=tmp, env=env), 6)
    assert not (tmp / "clone").exists()


def test_a_tree_nested_too_deep_is_refused_without_a_crash(world):
    tmp, work, env = world
    c = Crafter()
    entry = c.file("bottom.txt")
    for _ in range(1200):
        entry = c.tree("d", [entry])
    name = c.publish(tmp / "remote", [entry])
    assert "deeper" in one_line_error(run_ama("checkout", name, cwd=work, env=env), 6)
    assert not (work / "d").exists()


def test_a_commit_with_a_non_utf8_message_is_refused(world):
    tmp, work, env = world
    c = Crafter()
    name = c.publish_root(tmp / "remote", c.add(serialize_tree([c.file("f")])), message=b"\xff\xfe\n")
    assert "malformed" in one_line_error(run_ama("checkout", name, cwd=work, env=env), 6)


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_an_object_replaced_by_a_special_file_on_the_remote_is_named(world, kind):
    tmp, work, env = world
    c = Crafter()
    name = c.publish(tmp / "remote", [c.file("victim.bin", b"victim\n")])
    obj = tmp / "remote" / "objects" / b3(b"victim\n")[:2] / b3(b"victim\n")[2:]
    obj.unlink()
    if kind == "fifo":
        os.mkfifo(obj)
    else:
        obj.mkdir()
    line = one_line_error(run_ama("clone", "--remote", tmp / "remote", name, tmp / "clone", cwd=tmp, env=env,
                                  timeout=30), 6)
    assert "remote" in line and b3(b"victim\n")[2:] in line and "not a file" in line

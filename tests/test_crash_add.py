"""SIGKILL in the middle of `ama add` leaves a readable index, old or new,
and a repository the next commands work in (docs/design.md, invariant 3)."""

import random
import shutil
import signal
import subprocess
import time

import pytest
from blake3 import blake3
from conftest import AMA, isolated_env, ok, read_index, write

FILES = 3000
OLD = 300  # files staged before the add that gets killed


def make_tree(root, seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    files = {}
    for i in range(FILES):
        rel = f"d{i % 30:02d}/f{i:04d}.bin"
        files[rel] = rng.randbytes(rng.randrange(1, 2048))
        write(root / rel, files[rel])
    return files


def staged_ids(repo) -> dict[str, str]:
    return {path: e.digest for path, e in read_index(repo).items()}


def start_add(repo, env) -> tuple[subprocess.Popen, float]:
    """Start `ama add .`; return it once it holds the index lock (or has
    exited), with the time it took to get there."""
    lock = repo / ".ama" / "index.lock"
    start = time.monotonic()
    p = subprocess.Popen([AMA, "add", "."], cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while not lock.exists() and p.poll() is None:
        time.sleep(0.0005)
    return p, time.monotonic() - start


@pytest.fixture(scope="module")
def locked_seconds(tmp_path_factory, _initialized_template) -> float:
    """How long `ama add` of the tree holds the index lock here: hashing,
    linking and writing the index, the part the kills should land in."""
    repo = tmp_path_factory.mktemp("calibrate") / "work"
    shutil.copytree(_initialized_template, repo, symlinks=True)
    make_tree(repo, seed=2)
    env = isolated_env(repo.parent)
    p, _ = start_add(repo, env)
    start = time.monotonic()
    assert p.wait(timeout=60) == 0
    return time.monotonic() - start


@pytest.fixture
def tree(repo, ama):
    """3000 files, the first 300 of them (d00..d02... by name) staged."""
    files = make_tree(repo, seed=1)
    old = sorted(files)[:OLD]
    ok(ama("update-index", "--add", "--stdin", input="\n".join(old)))
    return files, {p: blake3(files[p]).hexdigest() for p in old}


# Fractions of the locked time after which to kill; 1.2 lets some finish.
KILL_AT = [0.05, 0.2, 0.4, 0.6, 0.75, 0.85, 0.95, 1.2]


@pytest.mark.parametrize("fraction", KILL_AT)
def test_sigkill_during_add_leaves_the_old_or_the_new_index(tree, repo, ama, ama_env, locked_seconds, fraction):
    files, old = tree
    new = {p: blake3(d).hexdigest() for p, d in files.items()}
    p, _ = start_add(repo, ama_env)
    delay = fraction * locked_seconds * random.Random(fraction).uniform(0.9, 1.1)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    rc = p.returncode

    # The index parses (never torn) and is exactly the old one or the new one.
    staged = staged_ids(repo)
    assert staged in (old, new), f"killed (rc {rc}) {delay:.2f}s into add: {len(staged)} entries"
    print(f"lock+{delay:.2f}s of {locked_seconds:.2f}s, rc {rc}: the {'new' if staged == new else 'old'} index")

    # A kill may leave index.lock behind; nobody holds it, so the next
    # commands take it over: no manual step.
    lock = repo / ".ama" / "index.lock"
    status = ok(ama("status", "--porcelain")).out.splitlines()
    untracked_dirs = {p.split("/")[0] for p in files if p not in old}
    assert len(status) == (FILES if staged == new else OLD + len(untracked_dirs))
    ok(ama("fsck"))

    ok(ama("add", "."))
    assert staged_ids(repo) == new
    assert not lock.exists()

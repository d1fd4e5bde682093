"""The forked, parallel walk of a large tree reports exactly what the
serial walk reports, for every kind of change."""

import os

from conftest import isolated_env, run_ama


def _tree(root, dirs=12, files=5):
    for d in range(dirs):
        sub = root / f"d{d:02d}" / "inner"
        sub.mkdir(parents=True)
        for f in range(files):
            (sub / f"f{f}.bin").write_bytes(os.urandom(64 + f))
        (root / f"d{d:02d}" / "top.txt").write_text(f"top {d}\n")
    (root / "root.txt").write_text("root\n")


def _status(root, parallel: bool):
    env = isolated_env(root, AMA_PARALLEL_MIN="1" if parallel else "100000000")
    r = run_ama("status", "--porcelain", "-u", "all", cwd=root, env=env)
    s = run_ama("stat-check", "--all", cwd=root, env=env)
    return r.rc, r.out, s.rc, s.out


def test_parallel_walk_reports_the_same_as_the_serial_walk(tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    _tree(root)
    env = isolated_env(root)
    assert run_ama("init", cwd=root, env=env).rc == 0
    assert run_ama("add", ".", cwd=root, env=env).rc == 0
    clean = _status(root, True)
    assert clean == _status(root, False)
    assert clean[1] == "".join(f"A  {p}\n" for p in sorted(run_ama("ls-files", cwd=root, env=env).out.split()))

    os.rename(root / "d01/inner/f0.bin", root / "d07/moved.bin")  # renamed across subtrees
    (root / "d02/inner/f1.bin").unlink()  # deleted
    with open(root / "d03/top.txt", "a") as f:  # edited in place: damaged
        f.write("more\n")
    (root / "d04/inner/f2.bin").write_bytes(b"same size?")  # modified
    (root / "d05/new.bin").write_bytes(b"untracked")  # untracked
    (root / "root.txt").unlink()
    (root / "root.txt").write_text("root\n")  # replaced with equal content: clean

    parallel, serial = _status(root, True), _status(root, False)
    assert parallel == serial
    out = parallel[1]
    assert "AR d01/inner/f0.bin -> d07/moved.bin" in out
    assert "AD d02/inner/f1.bin" in out
    assert "AX d03/top.txt" in out
    assert "AX d04/inner/f2.bin" in out  # truncated and rewritten in place
    assert "?? d05/new.bin" in out
    assert "A  root.txt\n" in out
    assert parallel[2] == 1

"""The README's first command, `make demo`, runs scripts/demo.sh: it must run
to the end against the installed ama (it once broke silently when `ama add`
began to stage deletions)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import AMA, isolated_env

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_runs_to_the_end(tmp_path):
    env = isolated_env(tmp_path, TMPDIR=str(tmp_path), PATH=f"{os.path.dirname(AMA)}:{os.environ['PATH']}")
    p = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh")], cwd=tmp_path, env=env, capture_output=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert b"Demo finished" in p.stdout

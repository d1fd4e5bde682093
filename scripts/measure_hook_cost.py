"""Measure what the pre-commit hook costs: `ama stat-check` on a clean tree
of N tracked files next to `git status` on the same tree.

Usage: python scripts/measure_hook_cost.py [--files 100000] [--runs 5] [--keep DIR]

Both tools track the same files (the work tree is a git repository and an
ama repository at once). Each command runs once to warm the page cache,
then --runs times, taking turns; the median and best wall times are
reported with the ratio stat-check / git status. The target (docs/design.md) is a ratio <= 1.5. Nothing
here is an assertion: it prints numbers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

AMA = os.path.join(os.path.dirname(sys.executable), "ama")


def make_tree(root: str, files: int, per_dir: int = 100) -> None:
    for i in range(files):
        d = os.path.join(root, "data", f"d{i // per_dir:05d}")
        if i % per_dir == 0:
            os.makedirs(d)
        with open(os.path.join(d, f"f{i:06d}.bin"), "wb") as f:
            f.write(b"%d\n" % i)


def timed(commands: dict[str, list[str]], cwd: str, env: dict, runs: int) -> dict[str, tuple[float, float, int]]:
    """name -> (median, best, exit code); the commands take turns, so a
    busy spell of the machine does not fall on one of them only."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    codes = {}
    for cmd in commands.values():
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    for _ in range(runs):
        for name, cmd in commands.items():
            start = time.perf_counter()
            codes[name] = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True).returncode
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), min(t), codes[name]) for name, t in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", metavar="DIR", help="build the tree in DIR and keep it (reused if it exists)")
    args = parser.parse_args()

    base = args.keep or tempfile.mkdtemp(prefix="ama-hook-cost-")
    root = os.path.join(base, "tree")
    env = dict(os.environ, HOME=base, AMA_HOME=base, GIT_CONFIG_NOSYSTEM="1", AMA_NO_PROGRESS="1",
               AMA_AUTHOR_NAME="bench", AMA_AUTHOR_EMAIL="bench@example.com",
               GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    try:
        if not os.path.isdir(os.path.join(root, ".ama")):
            os.makedirs(root)
            t = time.perf_counter()
            make_tree(root, args.files)
            print(f"wrote {args.files} files in {time.perf_counter() - t:.1f}s", flush=True)
            for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "tree"],
                        [AMA, "init"], [AMA, "add", "-q", "data"]):
                subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True)
            subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
            subprocess.run(["git", "commit", "-qm", "ama files"], cwd=root, env=env, check=True)
        result = timed(
            {
                "git status --porcelain": ["git", "status", "--porcelain"],
                "ama stat-check -q --pending": [AMA, "stat-check", "-q", "--pending"],
                "python -c pass (start-up)": [sys.executable, "-c", "pass"],
            },
            root,
            env,
            args.runs,
        )
        print(f"{'':30} {'median':>9} {'best':>9}")
        for name, (median, best, rc) in result.items():
            print(f"{name:30} {median * 1000:7.1f}ms {best * 1000:7.1f}ms  (exit {rc})")
        (git_median, git_best, _), (ama_median, ama_best, _) = list(result.values())[:2]
        print(f"ratio stat-check / git status: median {ama_median / git_median:.2f}, "
              f"best {ama_best / git_best:.2f} (target <= 1.5)")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark ama against its peers on the same data, in the same run.

    python bench/run.py [--quick] [--only GROUPS] [--repeat N] [--tools TOOLS]
                        [--out bench/out/results.json] [--markdown docs/benchmarks.md]

Stdlib only.  Data sets go to $AMA_BENCH_DIR (default bench/data).  Peers come
from bench/setup_peers.sh; a missing one is reported as skipped, and an ama
command that fails is reported as "error: <first line of stderr>" for its rows.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data  # noqa: E402
import report  # noqa: E402
import suite  # noqa: E402
from timing import Result, first_line, measure_side_by_side, paired_ratios  # noqa: E402

GROUPS = "hash add annex real rm commit status startup push clone get fsck mirror s3 memory".split()


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller data sets and fewer runs (a few minutes)")
    p.add_argument("--only", default="", help=f"comma-separated groups to run: {','.join(GROUPS)}")
    p.add_argument(
        "--tools", default="", help="comma-separated tools to run (others are skipped), e.g. git,b3sum,dvc,aws"
    )
    p.add_argument(
        "--repeat",
        type=int,
        help="timed runs of every operation (default: 5, quick 3; fewer for slow peers and S3, more for start-up)",
    )
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up runs per operation (default 1)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds before one run is killed (default 3600)")
    p.add_argument("--out", type=Path, default=suite.REPO / "bench" / "out" / "results.json")
    p.add_argument("--markdown", type=Path, help="update the generated block of this file (e.g. docs/benchmarks.md)")
    p.add_argument(
        "--chart",
        type=Path,
        default=suite.REPO / "bench" / "ratios.svg",
        help="SVG chart written with --markdown (default bench/ratios.svg)",
    )
    args = p.parse_args(argv)
    unknown = {g for g in args.only.split(",") if g} - set(GROUPS)
    if unknown:
        p.error(f"unknown group(s) {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}")
    return args


def machine(root: Path) -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(
        next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    )
    os_name = "?"
    if Path("/etc/os-release").exists():
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "os": os_name,
        "kernel": platform.release(),
        "fs": fs_type(root),
        "python": platform.python_version(),
    }


def fs_type(path: Path) -> str:
    path = path.resolve()
    best, fstype = "", "?"
    for line in Path("/proc/mounts").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
            best, fstype = parts[1], parts[2]
    return f"{fstype} ({best})"


def versions(ctx: suite.Bench, tools: set[str]) -> dict[str, str]:
    probes = {
        "ama": ["ama", "--version"],
        "git": ["git", "--version"],
        "b3sum": ["b3sum", "--version"],
        "md5sum": ["md5sum", "--version"],
        "sha256sum": ["sha256sum", "--version"],
        "git-annex": ["git-annex", "version", "--raw"],
        "dvc": ["dvc", "--version"],
        "aws": ["aws", "--version"],
    }
    out = {}
    for tool, (exe, *args) in probes.items():
        if tool not in tools:
            continue
        why = ctx.missing(exe)
        if why:
            out[tool] = f"skipped: {why}"
            continue
        try:
            r = subprocess.run([ctx.which(exe), *args], capture_output=True, text=True, env=ctx.env, timeout=120)
            out[tool] = first_line(r.stdout) or first_line(r.stderr) or f"exit {r.returncode}"
            if r.returncode != 0:
                out[tool] = f"error: {out[tool]}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            out[tool] = f"error: {exc}"
    if "s3" in tools:
        r = subprocess.run(
            [str(ctx.venv_python), "-c", "import moto; print(moto.__version__)"], capture_output=True, text=True
        )
        if ctx.moto.name == "moto":
            out["moto (S3 server)"] = r.stdout.strip() or f"unavailable: {first_line(r.stderr)}"
        else:
            out["S3 server"] = f"{ctx.moto.endpoint} (AMA_BENCH_S3_ENDPOINT)"
    return out


def git_commit() -> str | None:
    """HEAD, marked when the ama package in the work tree differs from it."""
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=suite.REPO, capture_output=True, text=True)
    if not r.stdout.strip():
        return None
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "ama", "setup.cfg"], cwd=suite.REPO, capture_output=True, text=True
    )
    return r.stdout.strip() + (" + uncommitted changes to ama/" if changed.stdout.strip() else "")


def dataset_notes(ctx: suite.Bench, keys: set[str]) -> dict[str, str]:
    """Describe the data sets that this run actually generated."""
    out = {}
    s = ctx.scale
    made = ctx.__dict__
    if "big" in made:
        out["large file"] = f"{s.big_mib} MiB of random bytes"
    if "small" in made:
        out["small files"] = f"{s.small_count:,} files of 1-4 KiB random bytes in {s.small_dirs:,} directories"
    if "annex_subset" in made:
        out["subset"] = f"the first {s.annex_count:,} of the small files (git annex is too slow for all)"
    if "real" in made:
        st = data.tree_stats(ctx.real)
        out["real tree"] = (
            f"copy of {data.stdlib_dir()} as installed"
            + (f" less its top-level {', '.join(s.real_exclude)}" if s.real_exclude else ", unpruned")
            + f": {st['files']:,} files, {st['dirs']:,} directories, {st['bytes'] / 2**20:.0f} MiB"
        )
    if "push_set" in made:
        out["push/clone set"] = (
            f"{s.push_count:,} of the small files + one {s.push_big_mib} MiB file, "
            + (
                "through moto's S3 server on 127.0.0.1 (in-memory, one Python process: "
                "it bounds every client alike, so compare ratios, not MB/s)"
                if ctx.moto.name == "moto"
                else f"through the S3 server at {ctx.moto.endpoint}"
            )
        )
    if any(k.startswith("status-small-edited") for k in keys):
        out["edits"] = f"{s.edits} files rewritten the way editors save (new file renamed over the old)"
    if any(k.startswith(("memory-status", "add-memory")) for k in keys):
        if s.memory_entries:
            out["memory"] = f"{s.memory_entries:,} files of a few bytes each, all added and committed"
        else:
            out["memory"] = f"the {s.small_count:,} small files (the full run uses 1,000,000 entries)"
    return out


def progress(r) -> str:
    if r.skipped:
        return f"skipped: {r.skipped}"
    if r.error:
        return f"error: {r.error}"
    peak = f", peak {r.peak_rss_kib / 1024:.0f} MiB" if r.peak_rss_kib else ""
    return f"median {r.median:.3f} s{peak}, n={len(r.samples)}"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    scale = suite.QUICK if args.quick else suite.FULL
    repeat = args.repeat or scale.repeat
    root = Path(os.environ.get("AMA_BENCH_DIR", suite.REPO / "bench" / "data")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    tools = {t for t in args.tools.split(",") if t} or None
    ctx = suite.Bench(scale, root, tools)
    rows, ops = suite.build(ctx)
    only = {g for g in args.only.split(",") if g}
    if only:
        rows = [r for r in rows if only & set(r.groups)]
    # One measurement per (ama op, peer op): rows that differ only in metric share it; an
    # op in several pairs is measured again beside each peer (its setup runs again, as
    # every setup does what is left to do and no more).
    pairs = list(dict.fromkeys((r.ama, r.peer) for r in rows))

    print(f"ama bench ({scale.name}): {len(rows)} rows, {len(pairs)} pairs, data in {root}", file=sys.stderr)
    run_start = time.monotonic()
    load_before = os.getloadavg()[0]
    if load_before > 0.5 * (os.cpu_count() or 1):
        print(f"warning: the machine is busy (load {load_before:.1f}); timings will be noisy", file=sys.stderr)
    measured: dict[tuple[str, str], tuple[Result, Result, float]] = {}
    try:
        for i, (a, b) in enumerate(pairs, 1):
            side = (ops[a], ops[b])
            print(f"[{i}/{len(pairs)}] {a} vs {b}: {side[0].label} | {side[1].label}", file=sys.stderr, flush=True)
            pair_start = time.monotonic()
            load = round(os.getloadavg()[0], 2)
            runs = [args.repeat or o.repeat or repeat for o in side]
            ra, rb = measure_side_by_side(list(side), runs, args.warmup, args.timeout, ctx.missing)
            measured[(a, b)] = (ra, rb, load)
            ratios = paired_ratios(ra, rb)
            paired = f"; paired ratio {statistics.median(ratios):.2f}x (n={len(ratios)})" if ratios else ""
            took = f"{time.monotonic() - pair_start:.0f} s, load {load}"
            print(f"    ama:  {progress(ra)}\n    peer: {progress(rb)}{paired} ({took})", file=sys.stderr, flush=True)
    finally:
        ctx.moto.stop()

    outcomes = [report.outcome(r, *measured[(r.ama, r.peer)]) for r in rows]
    used_tools = {ops[k].tool for p in pairs for k in p} | ({"s3"} if any("s3" in r.groups for r in rows) else set())
    reproduce = "make bench-quick" if args.quick else "make bench"
    if only:
        reproduce += f"   # this run: python bench/run.py {' '.join(argv)}"
    meta = {
        "mode": scale.name,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "reproduce": reproduce,
        "repeat": repeat,
        "warmup": args.warmup,
        "machine": machine(root),
        "load_average": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "commit": git_commit(),
        "versions": versions(ctx, used_tools),
        "datasets": dataset_notes(ctx, {k for p in pairs for k in p}),
        "notes": ctx.notes,
    }
    print()
    print(report.text_table(outcomes))
    for n in ctx.notes:
        print(f"note: {n}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "meta": meta,
                "rows": [o.as_dict() for o in outcomes],
                "pairs": [
                    {"ama": ra.as_dict(), "peer": rb.as_dict(), "load_average": load}
                    for ra, rb, load in measured.values()
                ],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nresults: {args.out} (whole run: {time.monotonic() - run_start:.0f} s)")
    if args.markdown:
        chart = args.chart
        chart.write_text(report.svg_chart(outcomes, f"ama vs peers ({scale.name} run, {meta['date']})"))
        rel = os.path.relpath(chart, args.markdown.parent)
        report.write_markdown(args.markdown, report.markdown_block(outcomes, meta, rel))
        print(f"markdown: {args.markdown}, chart: {chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

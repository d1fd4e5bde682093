"""Run the crash and corruption fuzzers of tests/fuzz_harness.py.

    .venv/bin/python scripts/fuzz.py -n 1000                 # half crash, half corruption trials
    .venv/bin/python scripts/fuzz.py --mode crash --seed 17 --command pull -v   # one trial again
    .venv/bin/python scripts/fuzz.py -n 400 --markdown docs/reliability.md

Prints a table (trials, killed, violations per command and kind), and for
every failing trial its seed and the one-line command that runs it again.
Exits 1 if a trial found a violation that no known, still unfixed defect
(``KNOWN_UNFIXED`` in tests/fuzz_harness.py) explains. Seeds are fixed (``--first-seed``),
so a run repeats, except for the exact instant a timed kill lands.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import fuzz_harness as fh  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", "--trials", type=int, default=200, help="number of trials (default: 200)")
    p.add_argument("--mode", choices=("crash", "corrupt", "both"), default="both")
    p.add_argument("--seed", type=int, help="run this one seed")
    p.add_argument("--first-seed", type=int, default=1, help="seeds run from here (default: 1)")
    p.add_argument("--command", help="force the command (default: drawn from the seed)")
    p.add_argument("--no-s3", action="store_true", help="skip commits to S3 (moto's server)")
    p.add_argument("--markdown", metavar="FILE", help="write the table and the failures to FILE")
    p.add_argument("-k", "--keep", action="store_true", help="keep the directories of failing trials")
    p.add_argument("-v", "--verbose", action="store_true", help="print every trial")
    args = p.parse_args(argv)

    modes = ["crash", "corrupt"] if args.mode == "both" else [args.mode]
    if args.seed is not None:
        plan = [(m, args.seed) for m in modes]
    else:
        plan = [(modes[i % len(modes)], args.first_seed + i // len(modes)) for i in range(args.trials)]

    moto = None if args.no_s3 else fh.Moto()
    trials: list[fh.Trial] = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ama-fuzz-") as cache:
        try:
            for n, (mode, seed) in enumerate(plan, 1):
                if mode == "crash":
                    t = fh.crash_trial(seed, Path(cache), moto, command=args.command, keep=args.keep)
                else:
                    t = fh.corrupt_trial(seed, Path(cache), command=args.command, keep=args.keep)
                trials.append(t)
                if args.verbose or t.violations:
                    state = "killed" if t.killed else "ran"
                    print(f"[{n}/{len(plan)}] {mode} seed {seed} {t.command} {t.how} {state}: "
                          f"{len(t.violations)} violation(s)", flush=True)
                    if args.verbose:
                        print(f"    {t.note}", flush=True)
                    for kind, detail in t.violations:
                        print(f"    {kind}: {detail}", flush=True)
                    if t.violations:
                        print(f"    reproduce: {t.repro}", flush=True)
                elif n % 50 == 0:
                    print(f"[{n}/{len(plan)}] {time.monotonic() - start:.0f}s", flush=True)
        finally:
            if moto is not None:
                moto.stop()
    elapsed = time.monotonic() - start
    table = render(trials)
    print(table)
    print(f"{len(trials)} trials in {elapsed:.0f}s; {sum(1 for t in trials if t.violations)} with violations")
    if args.markdown:
        write_markdown(Path(args.markdown), trials, table, elapsed)
    unknown = [t for t in trials if t.unknown]
    if unknown:
        print(f"{len(unknown)} trial(s) with violations no known defect of issue 8 explains "
              f"(tests/fuzz_harness.py KNOWN_UNFIXED)")
    return 1 if unknown else 0


def render(trials: list[fh.Trial]) -> str:
    """Markdown tables: per mode and command; then per violation kind."""
    rows: dict[tuple[str, str], list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    kinds: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for t in trials:
        row = rows[(t.mode, t.command)]
        row[0] += 1
        row[1] += t.killed
        row[2] += bool(t.violations)
        for kind, _ in t.violations:
            kinds[(t.mode, t.command)][kind] += 1
    out = ["| fuzzer | command | trials | killed | trials with violations | violations by kind |",
           "|---|---|---:|---:|---:|---|"]
    for (mode, command), (n, killed, bad) in sorted(rows.items()):
        by_kind = ", ".join(f"{k} {c}" for k, c in sorted(kinds[(mode, command)].items())) or "—"
        out.append(f"| {mode} | {command} | {n} | {killed if mode == 'crash' else '—'} | {bad} | {by_kind} |")
    total = [sum(r[i] for r in rows.values()) for i in range(3)]
    out.append(f"| all | | {total[0]} | {total[1]} | {total[2]} | |")
    hows: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for t in trials:
        if t.mode == "corrupt":
            kind = t.how.split("/")[0]
            hows[kind][0] += 1
            hows[kind][1] += bool(t.violations)
            codes[kind]["hang" if t.rc is None else f"exit {t.rc}"] += 1
    if hows:
        out += ["", "| damaged file | corruption trials | trials with violations | answers |", "|---|---:|---:|---|"]
        for k, (n, bad) in sorted(hows.items()):
            answers = ", ".join(f"{code} x{c}" for code, c in sorted(codes[k].items(), key=lambda kv: -kv[1]))
            out.append(f"| {k} | {n} | {bad} | {answers} |")
    return "\n".join(out)


def write_markdown(path: Path, trials: list[fh.Trial], table: str, elapsed: float) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    failing = [t for t in trials if t.violations]
    lines = [
        "# Reliability: crash and corruption fuzzing",
        "",
        f"Run of {date} on commit `{commit}`: {len(trials)} trials in {elapsed:.0f} s "
        f"(`make fuzz N={len(trials)}`; harness in `tests/fuzz_harness.py`).",
        "",
        "**Crash trials** run one command and SIGKILL it, either after a delay drawn uniformly over the",
        "command's typical duration or at one of the failpoints it passes (`ama/failpoint.py`). Then:",
        "every `.ama/` file parses; the remote satisfies invariant 1 (a version record naming a commit",
        "implies the commit, its trees and every content are present and hash to their names); every",
        "work-tree file under a real name holds one version's bytes or the user's own; the same command",
        "run again exits 0 with no manual step (no stale lock); afterwards the work tree is exactly what",
        "an uninterrupted run gives and `status` shows no temporary files. `killed` counts the trials",
        "in which the kill landed before the command finished.",
        "",
        "**Corruption trials** damage one file of `.ama/` or of the directory remote (flip a bit,",
        "truncate, empty, garbage, valid JSON with a field missing, unknown or of the wrong type, a",
        "directory, a FIFO on the remote) and run one command under a 20 s timeout: it must exit 0",
        "with the right bytes in the work tree, or with a documented exit code and one line on stderr;",
        "never exit 70, a signal or a hang; `fsck` must not pass a damaged object.",
        "",
        table,
        "",
    ]
    items = collections.Counter(fh.known_item(k, d) or "not a known defect" for t in failing for k, d in t.violations
                                if t.violations)
    if items:
        lines += ["## What the violations are", "",
                  "Violations by the item of issue 8 whose fix had not landed when this ran (`KNOWN_UNFIXED` in",
                  "`tests/fuzz_harness.py`), or \"not a known defect\" (a new finding):", ""]
        lines += [f"- {item}: {n}" for item, n in items.most_common()]
        lines.append("")
    if failing:
        lines += ["## Failing trials", "", "Each line: the trial, its first violation, the command that runs it again.",
                  ""]
        for t in failing[:200]:
            kind, detail = t.violations[0]
            lines.append(f"- {t.mode} seed {t.seed} `{t.command}` {t.how}: **{kind}** {detail} — `{t.repro}`")
        if len(failing) > 200:
            lines.append(f"- ... and {len(failing) - 200} more")
        lines.append("")
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    os.environ.setdefault("AMA_NO_PROGRESS", "1")
    sys.exit(main())

"""pair.py ROOT N [label]: alternate git status, ama status (C core), git -c core.untrackedCache=true status
(on its own copy ROOT/g-uc, made from ROOT/g);
median of paired ratios vs git status (each run paired with the git run before it)."""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

root, n = sys.argv[1], int(sys.argv[2])
ama = os.environ.get("AMA", str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ama"))
env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
env["AMA_HOME"] = env["HOME"] = os.path.join(root, "home")
cmds = {"git": (["git", "status"], "g"), "ama": ([ama, "status"], "a"),
        "git-uc": (["git", "-c", "core.untrackedCache=true", "status"], "g-uc")}
if os.environ.get("PY"):
    cmds["ama-py"] = ([ama, "status"], "a")
def t(name):
    argv, side = cmds[name]
    e = {**env, "AMA_MODULE_POLICY": "py"} if name == "ama-py" else env
    s = time.perf_counter()
    subprocess.run(argv, cwd=os.path.join(root, side), env=e, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - s
# git's default (core.untrackedCache unset) *keeps* an untracked cache it finds in
# the index, so one git-uc run on the same copy would turn the git row into a
# second git-uc row: the cache gets its own copy, and the default copy has none.
subprocess.run(["git", "update-index", "--no-untracked-cache"], cwd=os.path.join(root, "g"), env=env, check=True)
if not os.path.isdir(os.path.join(root, "g-uc")):
    subprocess.run(["cp", "-a", os.path.join(root, "g"), os.path.join(root, "g-uc")], check=True)
for name in cmds:  # warm-up
    t(name)
    t(name)
times = {k: [] for k in cmds}
ratios = {k: [] for k in cmds if k != "git"}
load0 = open("/proc/loadavg").read().split()[0]
for _ in range(n):
    g = t("git")
    times["git"].append(g)
    for k in ratios:
        x = t(k)
        times[k].append(x)
        ratios[k].append(x / g)
load1 = open("/proc/loadavg").read().split()[0]
print(f"{sys.argv[3] if len(sys.argv) > 3 else root}: n={n}, load {load0}->{load1}; medians: " +
      ", ".join(f"{k} {statistics.median(v)*1000:.0f} ms" for k, v in times.items()) + "; paired ratio vs git: " +
      ", ".join(f"{k} {statistics.median(v):.2f}x" for k, v in ratios.items()))

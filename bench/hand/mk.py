"""mk.py ROOT N: ROOT/a (ama repo, added + committed) and ROOT/g (git repo, committed) with N files, 100 per dir."""
import os
import subprocess
import sys
import time
from pathlib import Path

root, n = sys.argv[1], int(sys.argv[2])
ama = os.environ.get("AMA", str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ama"))
env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
env["AMA_HOME"] = os.path.join(root, "home")
env["HOME"] = os.path.join(root, "home")
os.makedirs(env["HOME"], exist_ok=True)
for side in ("a", "g"):
    base = os.path.join(root, side)
    for i in range(n):
        d = os.path.join(base, "data", f"d{i // 100:05d}")
        if i % 100 == 0:
            os.makedirs(d)
        with open(os.path.join(d, f"f{i:07d}.bin"), "w") as f:
            f.write(f"{i}\n")
t = time.time()
subprocess.run([ama, "init"], cwd=os.path.join(root, "a"), env=env, check=True, stdout=subprocess.DEVNULL)
subprocess.run([ama, "add", "."], cwd=os.path.join(root, "a"), env=env, check=True, stdout=subprocess.DEVNULL)
subprocess.run([ama, "commit", "-m", "bench"], cwd=os.path.join(root, "a"), env=env, check=True, stdout=subprocess.DEVNULL)
print("ama ready", round(time.time() - t, 1))
g = os.path.join(root, "g")
genv = {**env, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
subprocess.run(["git", "init", "-q"], cwd=g, env=genv, check=True)
subprocess.run(["git", "add", "-A"], cwd=g, env=genv, check=True)
# gc.auto=0, then a gc in the foreground: an automatic gc detached after the
# commit would still be packing objects while pair.py copies the repository.
subprocess.run(["git", "-c", "gc.auto=0", "commit", "-q", "-m", "bench"], cwd=g, env=genv, check=True)
subprocess.run(["git", "gc", "-q"], cwd=g, env=genv, check=True)
print("git ready")

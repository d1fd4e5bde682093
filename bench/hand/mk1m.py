"""mk1m.py ROOT N: an ama work tree ROOT/a with N tiny files (1000 per directory), staged and
"committed" for a status memory measurement: the index is built directly (fake content ids),
its cached root tree id set, and HEAD points at a commit whose tree is that id, so status
is a clean status after commit without hashing N files. Memory of status only."""
import os
import subprocess
import sys
import time
from pathlib import Path

root, n = sys.argv[1], int(sys.argv[2])
ama = os.environ.get("AMA", str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ama"))
env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
env["AMA_HOME"] = env["HOME"] = os.path.join(root, "home")
os.makedirs(env["HOME"], exist_ok=True)
a = os.path.join(root, "a")
t = time.time()
for i in range(n):
    d = os.path.join(a, "data", f"d{i // 1000:04d}")
    if i % 1000 == 0:
        os.makedirs(d)
    with open(os.path.join(d, f"{i:07d}"), "w") as f:
        f.write(f"{i}\n")
print("files", round(time.time() - t), flush=True)
subprocess.run([ama, "init", "--class", "mem"], cwd=a, env=env, check=True, stdout=subprocess.DEVNULL)
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from ama.fsutil import LockFile  # noqa: E402 (this checkout's ama)
from ama.index import Index  # noqa: E402 (this checkout's ama)
from ama.objects import Commit  # noqa: E402 (this checkout's ama)
from ama.refs import Head, write_head  # noqa: E402 (this checkout's ama)
from ama.repo import Repo  # noqa: E402 (this checkout's ama)

repo = Repo(a)
index = Index()
old = time.time_ns() - 3600 * 10**9
for i in range(n):
    rel = f"data/d{i // 1000:04d}/{i:07d}"
    index.add(rel, f"{i:064x}", os.lstat(os.path.join(a, rel)))
index.tree = "ab" * 32
lock = LockFile(repo.index_path)
lock.acquire()
index.write(lock)
commit = Commit(index.tree, "mem/1", 1, "b <b@x>", 0, "+0000", "bench")
cid = repo.store.write_bytes(commit.serialize())
write_head(repo, Head("mem", 1, 1, cid))
print("ready", round(time.time() - t), flush=True)

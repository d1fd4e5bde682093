"""index_layout.py N: write an index of N synthetic entries with 36-byte paths, then
time Index.load plus the first lookup (read, verify, decode) and Index.write, and
trace the memory of the decoded index. PYTHONPATH=OTHER_CHECKOUT compares another build."""
import os
import sys
import time
import tracemalloc
from types import SimpleNamespace

from ama.fsutil import LockFile
from ama.index import Index

n = int(sys.argv[1])
path = f"/tmp/index-layout-{n}-{os.getpid()}"
index = Index()
for i in range(n):
    t = 1_700_000_000_000_000_000 + i
    st = SimpleNamespace(st_size=i, st_mtime_ns=t, st_ctime_ns=t, st_ino=10**7 + i, st_dev=2049, st_mode=0o100644)
    index.add(f"data/d{i // 1000:04d}/sub/file-{i:012d}.bin"[:36].ljust(36, "x"), f"{i:064x}", st)
with LockFile(path) as lock:
    index.write(lock)
del index
start = time.perf_counter()
index = Index.load(path)
_ = "x" in index
load = time.perf_counter() - start
del index
tracemalloc.start()
index = Index.load(path)
_ = "x" in index
memory = tracemalloc.get_traced_memory()[0]
tracemalloc.stop()
index.mtime_ns = 0
start = time.perf_counter()
with LockFile(path) as lock:
    index.write(lock)
write = time.perf_counter() - start
print(f"{n}: file {os.path.getsize(path) / 1e6:.1f} MB, decoded {memory / 1e6:.0f} MB, "
      f"load+decode {load:.2f} s, write {write:.2f} s")
os.unlink(path)

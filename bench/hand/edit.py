"""edit.py ROOT N: rewrite N files (same ones) in ROOT/a/data, ROOT/g/data and ROOT/g-uc/data (if made) the way editors save."""
import os
import random
import sys

root, n = sys.argv[1], int(sys.argv[2])
rels = []
for dirpath, _, names in os.walk(os.path.join(root, "a", "data")):
    rels += [os.path.relpath(os.path.join(dirpath, x), os.path.join(root, "a")) for x in names]
rels.sort()
for rel in random.Random(7).sample(rels, n):
    for side in ("a", "g", "g-uc"):
        if not os.path.isdir(os.path.join(root, side)):
            continue
        p = os.path.join(root, side, rel)
        data = open(p, "rb").read() + b"edited\n"
        with open(p + ".tmp", "wb") as f:
            f.write(data)
        os.replace(p + ".tmp", p)

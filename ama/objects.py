"""Trees and commits: canonical text, stored as objects, named by BLAKE3.

The formats are in ``docs/object-format.md``. Both are produced only from
sorted, explicit fields, so equal inputs always give equal ids: a shell
script of plumbing commands reproduces the ids ``ama commit`` produces.
"""

from __future__ import annotations

from .errors import Corrupt
from .names import MAX_DEPTH, is_hex64
from .tuples import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

TREE_MAGIC = b"ama-tree 1\n"
COMMIT_MAGIC = b"ama-commit 1\n"
MODE_FILE = "100644"
MODE_EXEC = "100755"
MODE_TREE = "040000"


REF_MAGIC = b"ama-ref 1\n"


def __getattr__(name: str):
    """``HEX64``, the compiled pattern of names.is_hex64 for modules that
    match with it, built on first use: ``ama status`` never pays for ``re``."""
    if name == "HEX64":
        import re

        globals()[name] = pattern = re.compile(r"^[0-9a-f]{64}\Z")
        return pattern
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def object_type(data: bytes) -> str:
    if data.startswith(TREE_MAGIC):
        return "tree"
    if data.startswith(COMMIT_MAGIC):
        return "commit"
    if data.startswith(REF_MAGIC):
        return "ref"
    return "file"


# -- trees -------------------------------------------------------------------


# mode: MODE_FILE, MODE_EXEC or MODE_TREE; kind: "file", "ref" (a reference
# object naming bytes that stay at their source, docs/references.md) or
# "tree"; size: bytes of the file, or of every file below a tree.
# (namedtuple: typing costs start-up.)
TreeEntry = namedtuple("TreeEntry", "name mode kind digest size")


def file_mode(st_mode: int) -> str:
    return MODE_EXEC if st_mode & 0o100 else MODE_FILE


def serialize_tree(entries: list[TreeEntry]) -> bytes:
    lines = [TREE_MAGIC]
    for e in sorted(entries, key=lambda e: e.name.encode()):
        lines.append(f"{e.mode} {e.kind} {e.digest} {e.size}\t{e.name}\n".encode())
    return b"".join(lines)


KINDS = {"file": (MODE_FILE, MODE_EXEC), "ref": (MODE_FILE, MODE_EXEC), "tree": (MODE_TREE,)}


def parse_tree(data: bytes, digest: str = "?") -> list[TreeEntry]:
    """The entries of a tree object, every field checked.

    A kind this ama does not know (a newer ama's) is refused, never read as
    a file; so are a mode that does not fit the kind, a malformed id or
    size, a name that is not UTF-8, and names out of order or repeated.
    """
    if not data.startswith(TREE_MAGIC):
        raise Corrupt(f"object {digest} is not a tree")
    try:
        text = data[len(TREE_MAGIC) :].decode()
    except UnicodeDecodeError:
        raise Corrupt(f"tree {digest} has a name that is not UTF-8") from None
    entries = []
    last = b""
    # Only "\n" ends an entry: names may hold "\r" or other line breaks.
    lines = text.split("\n")
    if lines[-1]:
        raise Corrupt(f"tree {digest} has a malformed entry: {lines[-1]!r}")
    for line in lines[:-1]:
        try:
            head, name = line.split("\t", 1)
            mode, kind, entry_digest, size = head.split(" ")
            if not (size.isascii() and size.isdigit()):
                raise ValueError
            entry = TreeEntry(name, mode, kind, entry_digest, int(size))
        except ValueError:
            raise Corrupt(f"tree {digest} has a malformed entry: {line!r}") from None
        if kind not in KINDS:
            raise Corrupt(
                f"tree {digest} has an entry of kind {kind!r} ({name!r}), which this ama does not know; "
                f"upgrade ama to check it out"
            )
        if mode not in KINDS[kind] or not is_hex64(entry_digest) or not name:
            raise Corrupt(f"tree {digest} has a malformed entry: {line!r}")
        key = name.encode()
        if key <= last and entries:
            what = "twice" if key == last else "out of order"
            raise Corrupt(f"tree {digest} is malformed: it names {name!r} {what}")
        last = key
        entries.append(entry)
    return entries


def build_trees(files: dict[str, tuple[str, int, int]], write, refs: Collection[str] = ()) -> str:
    """Write one tree per directory of ``files`` and return the root tree id.

    ``files`` maps a '/'-separated path to (digest, size, st_mode); the
    paths in ``refs`` are references (kind ``ref``), the others files.
    ``write(bytes) -> id`` stores an object. An unchanged directory gives the
    same tree id as before, as in git.
    """
    root: dict = {}
    for path, (digest, size, st_mode) in files.items():
        *dirs, name = path.split("/")
        node = root
        for d in dirs:
            node = node.setdefault(d, {})
        node[name] = TreeEntry(name, file_mode(st_mode), "ref" if path in refs else "file", digest, size)

    def write_node(node: dict) -> tuple[str, int]:
        entries = []
        total = 0
        for name, child in node.items():
            if isinstance(child, dict):
                child_id, child_size = write_node(child)
                entries.append(TreeEntry(name, MODE_TREE, "tree", child_id, child_size))
                total += child_size
            else:
                entries.append(child)
                total += child.size
        return write(serialize_tree(entries)), total

    return write_node(root)[0]


def walk_tree(read, tree_id: str, prefix: str = ""):
    """Yield (path, TreeEntry) for every file below ``tree_id``, in path
    order. ``read(id) -> bytes`` loads an object. Iterative: a tree nested
    deeper than ``MAX_DEPTH`` is Corrupt, never a recursion error."""
    stack = [(prefix, iter(parse_tree(read(tree_id), tree_id)))]
    while stack:
        base, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
        elif entry.kind == "tree":
            if len(stack) >= MAX_DEPTH:
                raise Corrupt(f"tree {tree_id} is nested deeper than {MAX_DEPTH} directories")
            stack.append((f"{base}{entry.name}/", iter(parse_tree(read(entry.digest), entry.digest))))
        else:
            yield f"{base}{entry.name}", entry


# -- commits -----------------------------------------------------------------


class Commit:
    """One version: what ``serialize`` writes and ``parse`` reads back."""

    def __init__(
        self,
        tree: str,
        asset: str,  # class/seq
        version: int,
        author: str,  # "Name <email>"
        time: int,  # seconds since the epoch
        tz: str,  # +hhmm
        message: str,
        parent: str | None = None,
        inputs: list[tuple[str, str]] | None = None,  # (class/seq/n, commit id)
        meta: dict[str, object] | None = None,
    ):
        self.tree = tree
        self.asset = asset
        self.version = version
        self.author = author
        self.time = time
        self.tz = tz
        self.message = message
        self.parent = parent
        self.inputs = inputs if inputs is not None else []
        self.meta = meta if meta is not None else {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Commit) and vars(self) == vars(other)

    def serialize(self) -> bytes:
        lines = [f"tree {self.tree}"]
        if self.parent:
            lines.append(f"parent {self.parent}")
        lines.append(f"asset {self.asset}")
        lines.append(f"version {self.version}")
        lines.append(f"author {self.author} {self.time} {self.tz}")
        for name, commit_id in sorted(self.inputs):
            lines.append(f"input {name} {commit_id}")
        import json

        for key in sorted(self.meta):
            lines.append(f"meta {key} {json.dumps(self.meta[key], sort_keys=True, separators=(',', ':'))}")
        message = self.message if self.message.endswith("\n") else self.message + "\n"
        return COMMIT_MAGIC + ("\n".join(lines) + "\n\n" + message).encode()

    @classmethod
    def parse(cls, data: bytes, digest: str = "?") -> Commit:
        if not data.startswith(COMMIT_MAGIC):
            raise Corrupt(f"object {digest} is not a commit")
        fields: dict = {"inputs": [], "meta": {}}
        try:
            text = data[len(COMMIT_MAGIC) :].decode()
            header, _, message = text.partition("\n\n")
            for line in header.split("\n"):
                key, _, value = line.partition(" ")
                if key == "author":
                    who, when, tz = value.rsplit(" ", 2)
                    fields.update(author=who, time=int(when), tz=tz)
                elif key == "input":
                    name, commit_id = value.split(" ")
                    _check_id(commit_id)
                    fields["inputs"].append((name, commit_id))
                elif key == "meta":
                    import json

                    name, raw = value.split(" ", 1)
                    fields["meta"][name] = json.loads(raw)
                elif key == "version":
                    if not (value.isascii() and value.isdigit()) or int(value) < 1:
                        raise ValueError(value)
                    fields["version"] = int(value)
                elif key in ("tree", "parent"):
                    fields[key] = _check_id(value)
                elif key == "asset":
                    fields[key] = value
            return cls(message=message, **fields)
        except (ValueError, TypeError, RecursionError):
            raise Corrupt(f"commit {digest} is malformed") from None


def _check_id(value: str) -> str:
    if not is_hex64(value):
        raise ValueError(value)
    return value


# -- what objects reach ------------------------------------------------------


class Reachable:
    """Object ids reachable from some commits and trees, by kind. (Not a
    dataclass: ``dataclasses`` imports ``re`` and ``inspect``, which
    ``ama status`` must not pay for.)"""

    def __init__(self) -> None:
        self.commits: set[str] = set()
        self.trees: set[str] = set()
        self.contents: set[str] = set()  # files' (and references') objects

    def all(self) -> set[str]:
        return self.commits | self.trees | self.contents


def reachable(
    store, commits: Iterable[str | None] = (), trees: Iterable[str | None] = (), strict: bool = False
) -> Reachable:
    """Every object reachable in ``store`` from ``commits`` (each with its
    parents) and ``trees``: those commits, the trees below their trees and
    below ``trees``, and the contents those trees name. The one walk of
    ``gc`` (what to keep), ``prune`` (what each version uses) and a
    commit's push (which trees to send).

    ``store`` needs ``has(id)`` and ``read_bytes(id)``. A commit or tree
    not stored here is passed over (its own links cannot be followed);
    with ``strict`` an absent tree is an error (from ``read_bytes``). An
    object that is not what its referrer says (a damaged store) is Corrupt.
    Each id is read once, however many versions share it.
    """
    found = Reachable()
    commit_stack = [c for c in commits if c]
    tree_stack = [t for t in trees if t]
    while commit_stack or tree_stack:
        if commit_stack:
            commit_id = commit_stack.pop()
            if commit_id in found.commits or not store.has(commit_id):
                continue
            found.commits.add(commit_id)
            commit = Commit.parse(store.read_bytes(commit_id), commit_id)
            if commit.parent:
                commit_stack.append(commit.parent)
            tree_stack.append(commit.tree)
            continue
        tree_id = tree_stack.pop()
        if tree_id in found.trees or (not strict and not store.has(tree_id)):
            continue
        found.trees.add(tree_id)
        for entry in parse_tree(store.read_bytes(tree_id), tree_id):
            if entry.kind == "tree":
                tree_stack.append(entry.digest)
            else:
                found.contents.add(entry.digest)
    return found


def write_index_tree(store, index) -> str:
    """Write the trees of an index's files into ``store``; root tree id.

    The trees are written as one batch (``Store.batch``): durable with one
    file-system sync rather than one fsync per tree, and all of them durable
    before the root id is returned for anything to refer to.
    """
    with store.batch() as batch:
        return build_trees(index_files(index), batch.write, index.reference_paths())


def index_files(index) -> dict[str, tuple[str, int, int]]:
    """``build_trees``' input from an index's (path, id, size, mode) rows."""
    return {path: (digest, size, mode) for path, digest, size, mode in index.files()}

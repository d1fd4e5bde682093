"""Reading versions: commits and trees from the local store, fetched from
the remote only when they are missing here.

``log``, ``show`` and ``diff`` read through an ``ObjectReader``: the remote
is opened on first need, so a history that is all local never touches the
network (nor imports boto3). Fetched objects are verified against their ids
(``sync.fetch_object``) and kept in the local store.
"""

from __future__ import annotations

from collections.abc import Iterator

from .objects import Commit, TreeEntry, object_type, parse_tree, walk_tree
from .repo import Repo
from .version_names import Resolved, resolve


class ObjectReader:
    """Objects of ``repo``, from its store or else from its remote."""

    def __init__(self, repo: Repo, remote_name: str | None = None):
        self.repo = repo
        self.remote_name = remote_name
        self._remote = None

    @property
    def remote(self):
        if self._remote is None:
            from .remotes import open_repo_remote

            self._remote = open_repo_remote(self.repo, self.remote_name)
        return self._remote

    def read(self, digest: str) -> bytes:
        if self.repo.store.has(digest):
            return self.repo.store.read_bytes(digest)
        from .version_transfer import fetch_object

        return fetch_object(self.repo, self.remote, digest)

    def commit(self, commit_id: str) -> Commit:
        data = self.read(commit_id)
        if object_type(data) != "commit":
            from .errors import Corrupt

            raise Corrupt(f"object {commit_id} is not a commit")
        return Commit.parse(data, commit_id)

    def resolve(self, name: str) -> Resolved:
        """A version name: asset names are asked of the remote, HEAD and ids
        are answered locally."""
        return resolve(self.repo, name, self.remote if "/" in name else None)

    def walk(self, commit_id: str) -> Iterator[tuple[str, Commit]]:
        """``commit_id`` and its ancestors, newest first."""
        seen: set[str] = set()
        current: str | None = commit_id
        while current and current not in seen:
            seen.add(current)
            commit = self.commit(current)
            yield current, commit
            current = commit.parent

    def root_entries(self, tree_id: str) -> list[TreeEntry]:
        return parse_tree(self.read(tree_id), tree_id)

    def tree_size(self, tree_id: str) -> int:
        """Bytes of every file of a version: each tree entry carries the size
        of everything below it, so the root tree alone answers."""
        return sum(e.size for e in self.root_entries(tree_id))

    def files(self, tree_id: str) -> list[tuple[str, TreeEntry]]:
        """(path, entry) of every file of a tree, sorted by path."""
        return sorted(walk_tree(self.read, tree_id), key=lambda item: item[0].encode())

"""S3 servers that are not AWS: conditional writes that are misread or ignored.

moto's server sits behind ``FaultProxy``, whose ``rewrite`` plays the server
under test: Ceph RGW before 2025 (compares ``If-Match`` against the ETag
without its quotes, so a correctly quoted ETag never matches), or a server
that ignores ``If-None-Match`` or ``If-Match`` altogether (s3rver). The same
cases run against a real radosgw in ``make test-s3-real``
(tests/test_s3_real.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ok, one_line_error, run_ama
from remote_fixtures import FAKE_AWS_ENV, new_bucket
from txn_helpers import DOWN, ERROR_503, BucketView, FaultProxy, read_pending, txn_env, write_files

from ama.config import Config
from ama.errors import PreconditionFailed
from ama.remote.probe import (
    CONDITIONAL,
    IGNORES_IF_MATCH,
    IGNORES_IF_NONE_MATCH,
    PROBE_PREFIX,
    REFUSES_IF_MATCH,
    probe,
)
from ama.remote.s3 import S3Remote

Rewrite = Callable[[str, str], "str | None"]


def rgw_before_2025(name: str, value: str) -> str:
    """If-Match compared without quotes: a quoted ETag never matches."""
    if name.lower() == "if-match" and value.startswith('"'):
        return f'"quoted-{value.strip(chr(34))}"'
    return value


def ignoring(header: str) -> Rewrite:
    return lambda name, value: None if name.lower() == header else value


def never_matching(name: str, value: str) -> str:
    return '"never-matches"' if name.lower() == "if-match" else value


@pytest.fixture
def proxy(moto_server: str) -> Iterator[FaultProxy]:
    p = FaultProxy(moto_server)
    yield p
    p.close()


@pytest.fixture
def s3(proxy: FaultProxy, moto_server: str, aws_env: dict[str, str]) -> Iterator[S3Remote]:
    with S3Remote(f"s3://{new_bucket(moto_server)}/p", endpoint=proxy.url, max_attempts=2) as r:
        yield r


def puts(proxy: FaultProxy) -> int:
    return sum(1 for method, _ in proxy.forwarded if method == "PUT")


# -- the backend ----------------------------------------------------------------


def test_compare_and_swap_works_where_if_match_is_compared_unquoted(s3: S3Remote, proxy: FaultProxy) -> None:
    proxy.rewrite = rgw_before_2025
    token = s3.create("assets/x/1/HEAD", b"1")
    new = s3.replace("assets/x/1/HEAD", b"2", token)
    assert s3.get_versioned("assets/x/1/HEAD") == (b"2", new)
    assert s3.if_match_unquoted
    before = puts(proxy)
    s3.replace("assets/x/1/HEAD", b"3", new)
    assert puts(proxy) == before + 1, "the learned form is sent first"
    with pytest.raises(PreconditionFailed, match="changed by someone else"):
        s3.replace("assets/x/1/HEAD", b"4", token)
    assert s3.get("assets/x/1/HEAD") == b"3"


def test_a_stale_token_still_fails_after_retrying_the_other_quoting(s3: S3Remote, proxy: FaultProxy) -> None:
    proxy.rewrite = rgw_before_2025
    stale = s3.create("assets/x/1/HEAD", b"1")
    s3.replace("assets/x/1/HEAD", b"2", stale)
    with pytest.raises(PreconditionFailed):
        s3.replace("assets/x/1/HEAD", b"3", stale)
    assert s3.get("assets/x/1/HEAD") == b"2"


@pytest.mark.parametrize(
    ("rewrite", "writes", "unquoted"),
    [
        (None, CONDITIONAL, False),
        (rgw_before_2025, CONDITIONAL, True),
        (ignoring("if-none-match"), IGNORES_IF_NONE_MATCH, False),
        (ignoring("if-match"), IGNORES_IF_MATCH, False),
        (never_matching, REFUSES_IF_MATCH, False),
    ],
    ids=["s3", "rgw-before-2025", "no-if-none-match", "no-if-match", "if-match-never-matches"],
)
def test_probe_tells_what_the_server_honours_and_cleans_up(
    s3: S3Remote, proxy: FaultProxy, rewrite: Rewrite | None, writes: str, unquoted: bool
) -> None:
    proxy.rewrite = rewrite
    found = probe(s3)
    assert (found.writes, found.if_match_unquoted, found.safe) == (writes, unquoted, writes == CONDITIONAL)
    assert list(s3.list("")) == []


def test_probe_removes_scratch_keys_a_killed_probe_left(s3: S3Remote) -> None:
    old = f"{PROBE_PREFIX}{int(time.time()) - 7200}-0123456789abcdef"
    recent = f"{PROBE_PREFIX}{int(time.time()) - 60}-fedcba9876543210"
    s3.create(old, b"left by a killed probe")
    s3.create(recent, b"another probe, maybe still running")
    assert probe(s3).safe
    assert list(s3.list("")) == [recent]


# -- the commands -----------------------------------------------------------------


class Repo:
    """A work tree whose S3 remote is reached through the proxy."""

    def __init__(self, tmp_path: Path, proxy: FaultProxy, moto_server: str, name: str = "work"):
        self.url = f"s3://{new_bucket(moto_server)}/p"
        self.view = BucketView(self.url, moto_server)
        self.env = txn_env(tmp_path / "home", FAKE_AWS_ENV)
        self.work = tmp_path / name
        self.work.mkdir()
        self.proxy = proxy

    def ama(self, *args: str):
        return run_ama(*args, cwd=self.work, env=self.env)

    def init(self):
        return self.ama("init", "--class", "data", "--remote", self.url, "--endpoint", self.proxy.url)

    def config(self, key: str) -> str | None:
        return Config(str(self.work / ".ama/config")).get(key)

    def commit(self, files: dict[str, str], message: str):
        write_files(self.work, files)
        ok(self.ama("add", "."))
        return self.ama("commit", "-m", message)


@pytest.fixture
def repo(tmp_path: Path, proxy: FaultProxy, moto_server: str) -> Repo:
    return Repo(tmp_path, proxy, moto_server)


def test_commit_succeeds_where_if_match_is_compared_unquoted(repo: Repo) -> None:
    repo.proxy.rewrite = rgw_before_2025
    ok(repo.init())
    assert (repo.config("remote.origin.writes"), repo.config("remote.origin.ifmatch")) == (CONDITIONAL, "unquoted")
    ok(repo.commit({"a.txt": "one\n"}, "first"))
    ok(repo.commit({"a.txt": "two\n"}, "second"))
    assert repo.view.head("data", 1)["version"] == 2
    assert [r["status"] for r in repo.view.versions("data", 1).values()] == ["committed", "committed"]


@pytest.mark.parametrize(("header", "said"), [("if-none-match", "If-None-Match"), ("if-match", "If-Match")])
def test_commit_is_refused_where_conditions_are_ignored(repo: Repo, header: str, said: str) -> None:
    repo.proxy.rewrite = ignoring(header)
    init = ok(repo.init())
    assert f"ignores {said}" in init.err
    line = one_line_error(repo.commit({"a.txt": "one\n"}, "first"), 13)
    assert "ama does not commit there" in line and "remote.origin.singlewriter true" in line, line
    assert repo.view.keys() == [] and read_pending(repo.work) is None


def test_single_writer_opt_out_commits_and_says_what_is_lost(repo: Repo) -> None:
    repo.proxy.rewrite = ignoring("if-none-match")
    ok(repo.init())
    ok(repo.ama("config", "remote.origin.singlewriter", "true"))
    done = ok(repo.commit({"a.txt": "one\n"}, "first"))
    assert "committing anyway as its only writer" in done.err
    assert "a commit made elsewhere at the same time would be lost" in done.err
    assert repo.view.head("data", 1)["version"] == 1


def test_a_server_down_at_init_is_probed_before_the_first_commit(repo: Repo) -> None:
    repo.proxy.arm(DOWN)
    init = ok(repo.init())
    assert "could not check whether remote 'origin' honours conditional writes" in init.err
    assert repo.config("remote.origin.writes") is None
    repo.proxy.heal()
    repo.proxy.rewrite = ignoring("if-match")
    one_line_error(repo.commit({"a.txt": "one\n"}, "first"), 13)
    assert repo.config("remote.origin.writes") == IGNORES_IF_MATCH


def test_init_does_not_wait_out_every_retry_of_a_failing_server(repo: Repo) -> None:
    repo.proxy.arm(ERROR_503)
    init = ok(repo.init())
    assert "could not check whether remote 'origin' honours conditional writes" in init.err
    assert len(repo.proxy.faulted) == 2, "one request, two attempts (AMA_S3_MAX_ATTEMPTS is 3 here)"


def test_remote_add_probes_the_new_remote(repo: Repo, tmp_path: Path) -> None:
    ok(repo.ama("init", "--class", "data", "--remote", str(tmp_path / "dir-remote")))
    assert repo.config("remote.origin.writes") is None, "a directory remote needs no probe"
    repo.proxy.rewrite = ignoring("if-none-match")
    added = ok(repo.ama("remote", "add", "s3", repo.url, "--endpoint", repo.proxy.url))
    assert "remote 's3'" in added.err and "ignores If-None-Match" in added.err
    assert repo.config("remote.s3.writes") == IGNORES_IF_NONE_MATCH

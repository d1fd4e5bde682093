"""How an S3 remote is named and reached: region, profile, endpoint options,
and the empty content, which needs no request at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ok, one_line_error, run_ama
from remote_fixtures import FAKE_AWS_ENV, RemoteURL
from txn_helpers import ERROR_500, FaultProxy, txn_env, write_files

from ama.config import Config
from ama.errors import UsageError
from ama.hashing import EMPTY_ID
from ama.remote.base import object_key
from ama.remote.s3 import S3Remote

# -- region and profile -----------------------------------------------------------


def test_aws_region_is_honoured(monkeypatch: pytest.MonkeyPatch, aws_env: dict[str, str]) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    with S3Remote("s3://b/p") as r:
        assert r.client.meta.region_name == "eu-west-3"


def test_aws_region_wins_over_aws_default_region(monkeypatch: pytest.MonkeyPatch, aws_env: dict[str, str]) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    with S3Remote("s3://b/p") as r:
        assert r.client.meta.region_name == "eu-west-3"
    with S3Remote("s3://b/p", region="ap-south-1") as r:
        assert r.client.meta.region_name == "ap-south-1", "an explicit region wins over both"


def test_missing_profile_from_the_environment_is_named(monkeypatch: pytest.MonkeyPatch, aws_env: dict[str, str]) -> None:
    monkeypatch.setenv("AWS_PROFILE", "missing")
    with pytest.raises(UsageError) as err:
        S3Remote("s3://b/p")
    assert "AWS profile 'missing' (from AWS_PROFILE) not found" in str(err.value)


def test_missing_profile_is_one_line_from_the_command(tmp_path: Path) -> None:
    env = txn_env(tmp_path / "home", FAKE_AWS_ENV, AWS_PROFILE="missing")
    line = one_line_error(run_ama("ls-remote", "--url", "s3://b/p", cwd=tmp_path, env=env), 2)
    assert "AWS profile 'missing' (from AWS_PROFILE) not found" in line and "None" not in line


# -- --endpoint, --region, --profile on the commands --------------------------------


@pytest.fixture
def committed(remote_url: Callable[[str], RemoteURL], tmp_path: Path) -> tuple[RemoteURL, str]:
    """An S3 remote holding data/1 version 1, and its endpoint."""
    r = remote_url("s3-http")
    env = txn_env(tmp_path / "home", r.env)
    work = tmp_path / "work"
    work.mkdir()
    ok(run_ama("init", "--class", "data", "--remote", r.url, cwd=work, env=env))
    write_files(work, {"a.txt": "one\n", "empty": ""})
    ok(run_ama("add", ".", cwd=work, env=env))
    ok(run_ama("commit", "-m", "first", cwd=work, env=env))
    return r, r.env["AWS_ENDPOINT_URL_S3"]


def no_endpoint_env(home: Path, r: RemoteURL, **extra: str) -> dict[str, str]:
    """The remote's variables without its endpoint: the command line must give it."""
    return {k: v for k, v in txn_env(home, r.env, **extra).items() if k != "AWS_ENDPOINT_URL_S3"}


def test_ls_remote_and_rev_parse_take_an_endpoint_with_url(committed, tmp_path: Path) -> None:
    r, endpoint = committed
    env = no_endpoint_env(tmp_path / "home", r)
    listed = ok(run_ama("ls-remote", "--url", r.url, "--endpoint", endpoint, "--region", "us-east-1",
                        cwd=tmp_path, env=env))
    assert listed.out.startswith("data/1\t1\t")
    commit = listed.out.split("\t")[2].strip()
    parsed = ok(run_ama("rev-parse", "--url", r.url, "--endpoint", endpoint, "data/1/1", cwd=tmp_path, env=env))
    assert parsed.out.strip() == commit


def test_endpoint_without_url_is_a_usage_error(tmp_path: Path) -> None:
    line = one_line_error(run_ama("ls-remote", "--endpoint", "http://127.0.0.1:9", cwd=tmp_path,
                                  env=txn_env(tmp_path / "home")), 2)
    assert "--endpoint applies to --url" in line


def test_clone_takes_region_and_profile_and_keeps_them(committed, tmp_path: Path) -> None:
    r, endpoint = committed
    (tmp_path / "aws-config").write_text("[profile ama-test]\nregion = eu-west-3\n")
    (tmp_path / "aws-credentials").write_text(
        "[ama-test]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    env = no_endpoint_env(tmp_path / "home", r, AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
                          AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    ok(run_ama("clone", "--remote", r.url, "--endpoint", endpoint, "--region", "us-east-1",
               "--profile", "ama-test", "data/1", tmp_path / "clone", cwd=tmp_path, env=env))
    assert (tmp_path / "clone/a.txt").read_text() == "one\n"
    config = Config(str(tmp_path / "clone/.ama/config"))
    assert (config.get("remote.origin.region"), config.get("remote.origin.profile")) == ("us-east-1", "ama-test")


# -- the empty content -----------------------------------------------------------------


def test_empty_content_is_fetched_without_a_request(moto_server: str, aws_env: dict[str, str], tmp_path: Path) -> None:
    proxy = FaultProxy(moto_server)
    try:
        # Every request fails: getting the empty content must make none.
        proxy.arm(ERROR_500)
        with S3Remote("s3://no-bucket-needed/p", endpoint=proxy.url, max_attempts=1) as r:
            r.get_object(EMPTY_ID, str(tmp_path / "empty"))
        assert (tmp_path / "empty").read_bytes() == b""
        assert proxy.faulted == [] and proxy.forwarded == []
    finally:
        proxy.close()


def test_clone_of_an_empty_file_asks_nothing_about_it(committed, tmp_path: Path, moto_server: str) -> None:
    r, _ = committed
    proxy = FaultProxy(moto_server)
    try:
        empty_key = object_key(EMPTY_ID)
        proxy.arm(ERROR_500, match=lambda method, path: empty_key in path)
        env = no_endpoint_env(tmp_path / "home", r)
        ok(run_ama("clone", "--remote", r.url, "--endpoint", proxy.url, "data/1", tmp_path / "clone",
                   cwd=tmp_path, env=env))
        assert (tmp_path / "clone/empty").read_bytes() == b""
        assert proxy.faulted == []
    finally:
        proxy.close()

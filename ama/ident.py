"""Who and when: the author recorded in commits and ref logs.

Order: ``AMA_AUTHOR_NAME`` / ``AMA_AUTHOR_EMAIL`` / ``AMA_AUTHOR_DATE``, then
``user.name`` / ``user.email`` of ``.ama/config``, then the git config stack (repository, global, system, read by dulwich), then the
login name. Fixing the environment variables makes commit ids reproducible.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from datetime import datetime

from .errors import UsageError


def _git_identity(root: str | None) -> tuple[str | None, str | None]:
    try:
        from dulwich.config import StackedConfig
        from dulwich.repo import Repo as GitRepo

        try:
            config = GitRepo.discover(root or ".").get_config_stack()
        except Exception:
            config = StackedConfig.default()

        def read(key: bytes) -> str | None:
            try:
                return config.get((b"user",), key).decode()
            except KeyError:
                return None

        return read(b"name"), read(b"email")
    except Exception:
        return None, None


def _ama_identity(root: str | None) -> tuple[str | None, str | None]:
    if not root:
        return None, None
    from .config import Config

    config = Config(os.path.join(root, ".ama", "config"))
    return config.get("user.name"), config.get("user.email")


def author(root: str | None = None) -> str:
    name = os.environ.get("AMA_AUTHOR_NAME")
    email = os.environ.get("AMA_AUTHOR_EMAIL")
    if not (name and email):
        ama_name, ama_email = _ama_identity(root)
        name = name or ama_name
        email = email or ama_email
    if not (name and email):
        git_name, git_email = _git_identity(root)
        name = name or git_name
        email = email or git_email
    login = _login()
    name = name or login
    email = email or f"{login}@{socket.gethostname()}"
    return f"{name} <{email}>"


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def now() -> tuple[int, str]:
    """(seconds since the epoch, +hhmm) from AMA_AUTHOR_DATE or the clock.

    AMA_AUTHOR_DATE takes '<seconds> <+hhmm>', '@<seconds>' or an ISO 8601 date.
    """
    raw = os.environ.get("AMA_AUTHOR_DATE")
    if not raw:
        t = int(time.time())
        return t, _tz(datetime.now().astimezone().utcoffset().total_seconds())
    raw = raw.strip()
    try:
        if raw.startswith("@"):
            return int(raw[1:]), "+0000"
        parts = raw.split()
        if len(parts) == 2 and parts[0].isdigit():
            return int(parts[0]), parts[1]
        if raw.isdigit():
            return int(raw), "+0000"
        dt = datetime.fromisoformat(raw)
        if dt.tzinfo is None:
            dt = dt.astimezone()
        return int(dt.timestamp()), _tz(dt.utcoffset().total_seconds())
    except ValueError:
        raise UsageError(f"AMA_AUTHOR_DATE='{raw}' is not a date ('<seconds> <+hhmm>' or ISO 8601)") from None


def _tz(offset_seconds: float) -> str:
    sign = "+" if offset_seconds >= 0 else "-"
    minutes = int(abs(offset_seconds)) // 60
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def format_time(t: int, tz: str) -> str:
    from datetime import timedelta, timezone

    sign = -1 if tz.startswith("-") else 1
    offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * sign
    return datetime.fromtimestamp(t, timezone(offset)).strftime("%Y-%m-%d %H:%M:%S ") + tz

"""The JSON records ama reads from disk or a remote, checked field by field.

Every record carries ``"format": 1`` (a record without it is format 1, as
written before the field existed). A reader refuses a format it does not
know, a missing field, and a field of the wrong type or value, with one
line naming the record (exit 6): nothing read from ``.ama/`` or a remote
reaches the rest of ama unchecked. Fields a record does not define are
left alone on a remote (another ama may add some) and refused in
``.ama/PENDING`` (only this ama writes it). The formats are in
docs/remote-layout.md ("Records") and docs/commit-protocol.md.
"""

from __future__ import annotations

import json

from .errors import Corrupt
from .names import is_class_name, is_hex64

FORMAT = 1

# A field's check: a callable returning True for a valid value, and a
# description of what was expected for the error line.


def _str(v: object) -> bool:
    return isinstance(v, str)


def _int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _pos(v: object) -> bool:
    return _int(v) and v >= 1  # type: ignore[operator]


def _num(v: object) -> bool:
    return (_int(v) or isinstance(v, float)) and not isinstance(v, bool)


_hex = is_hex64
_cls = is_class_name


def input_name_ok(name: str) -> bool:
    """Whether ``name`` is CLASS/SEQ/N, as recorded for an input."""
    parts = name.split("/")
    return len(parts) == 3 and _cls(parts[0]) and all(p.isascii() and p.isdigit() for p in parts[1:])


def _or_none(check):
    return lambda v: v is None or check(v)


def _inputs(v: object) -> bool:
    return isinstance(v, list) and all(
        isinstance(i, list) and len(i) == 2 and _str(i[0]) and input_name_ok(i[0]) and _hex(i[1]) for i in v
    )


STR = (_str, "a string")
INT = (_int, "an integer")
POSITIVE = (_pos, "a number from 1")
NUMBER = (_num, "a number")
HEX64 = (_hex, "a 64-hex object id")
CLASS = (_cls, "an asset class name")
HEX64_OR_NULL = (_or_none(_hex), "a 64-hex object id or null")
POSITIVE_OR_NULL = (_or_none(_pos), "a number from 1 or null")
STATUS = (lambda v: v in ("reserved", "committed", "abandoned"), "reserved, committed or abandoned")
INPUTS = (_inputs, "a list of [name, commit id] pairs")
OBJECT = (lambda v: isinstance(v, dict), "a JSON object")

# kind -> (required fields, optional fields)
ASSET = ({"class": CLASS, "seq": POSITIVE}, {"txid": STR, "creator": STR, "created": NUMBER})
VERSION = (
    {"version": POSITIVE, "status": STATUS, "txid": STR},
    {"user": STR, "parent": HEX64_OR_NULL, "reserved_at": NUMBER, "committed_at": NUMBER,
     "abandoned_at": NUMBER, "commit": HEX64, "tree": HEX64},
)
HEAD = ({"version": POSITIVE, "commit": HEX64}, {})
ALIAS = ({"seq": POSITIVE}, {})
PENDING = (
    {"txid": STR, "class": CLASS, "tree": HEX64, "message": STR, "author": STR, "time": INT, "tz": STR,
     "remote": STR},
    {"parent": HEX64_OR_NULL, "seq": POSITIVE_OR_NULL, "version": POSITIVE_OR_NULL, "commit": HEX64_OR_NULL,
     "inputs": INPUTS, "meta": OBJECT, "asset": (_or_none(_str), "a string or null")},
)


def parse_json(data: bytes, where: str) -> dict:
    """``data`` as a JSON object, or Corrupt naming ``where``."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Corrupt(f"{where} is not valid JSON") from None
    if not isinstance(value, dict):
        raise Corrupt(f"{where} is not a JSON object")
    return value


def check(record: dict, kind: tuple[dict, dict], where: str, strict: bool = False) -> dict:
    """``record`` if it is a valid record of ``kind``; else Corrupt naming
    ``where`` and the first bad field. ``strict`` refuses unknown fields."""
    fmt = record.get("format", FORMAT)
    if not _int(fmt) or fmt < 1:
        raise Corrupt(f"{where} is damaged: field 'format' is {fmt!r}, expected a number from 1")
    if fmt > FORMAT:
        raise Corrupt(f"{where} has format {fmt}; this ama reads format {FORMAT}: upgrade ama to read it")
    required, optional = kind
    for name, (ok, expected) in required.items():
        if name not in record:
            raise Corrupt(f"{where} is damaged: field '{name}' is missing")
        if not ok(record[name]):
            raise Corrupt(f"{where} is damaged: field '{name}' is {_show(record[name])}, expected {expected}")
    for name, value in record.items():
        if name in required or name == "format":
            continue
        spec = optional.get(name)
        if spec is None:
            if strict:
                raise Corrupt(f"{where} is damaged: unknown field '{name}'")
            continue
        ok, expected = spec
        if not ok(value):
            raise Corrupt(f"{where} is damaged: field '{name}' is {_show(value)}, expected {expected}")
    if kind is VERSION and record["status"] == "committed" and "commit" not in record:
        raise Corrupt(f"{where} is damaged: a committed version without field 'commit'")
    return record


def load(data: bytes, kind: tuple[dict, dict], where: str, strict: bool = False) -> dict:
    return check(parse_json(data, where), kind, where, strict)


def _show(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."

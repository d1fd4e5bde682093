"""``.ama/config`` is read by a small parser of its plain form, which must give
exactly what configparser gives, or decline (then configparser reads it)."""

import configparser
import random

import pytest
from conftest import ok

from ama.config import Config, parse_plain
from ama.errors import Corrupt

FRAGMENTS = [
    "[core]", "[remote \"origin\"]", "[core]x", "[]", "[a]b]", "[[a]", "[core] ; c", "[ core ]",
    "formatversion = 1", "linkmode=auto", "LinkMode : copy", "url = /a/b:c=d", "key =", "= v", "key",
    "key = v # not a comment", "  indented = 1", "\tcontinued", "# comment", "; comment", "  # indented comment",
    "", "   ", "dup = 1", "dup = 2", "a:b=c", "x = caf\u00e9", "ctl = a\x0bb", "k = v\t", "\x1cfs = 1",
]


def configparser_reads(text: str):
    parser = configparser.ConfigParser(interpolation=None, default_section="\0")
    try:
        parser.read_string(text, "config")
    except configparser.Error:
        return "error"
    return {s: dict(parser.items(s)) for s in parser.sections()}


def test_plain_form_is_read_as_configparser_reads_it_or_declined():
    rng = random.Random(9)
    declined = 0
    for _ in range(4000):
        lines = [rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 8))]
        if rng.random() < 0.7:
            lines.insert(0, "[core]")
        text = "\n".join(lines) + rng.choice(["", "\n", "\n\n"])
        plain = parse_plain(text)
        if plain is None:
            declined += 1
            continue
        assert plain == configparser_reads(text), repr(text)
    assert declined < 3500  # the plain parser does read most of these


def test_what_ama_writes_is_plain(repo, ama):
    ok(ama("config", "core.linkmode", "copy"))
    ok(ama("remote", "add", "backup", "/tmp/x y:z"))
    text = (repo / ".ama" / "config").read_text()
    assert parse_plain(text) == configparser_reads(text)
    assert Config(str(repo / ".ama" / "config")).get("remote.backup.url") == "/tmp/x y:z"


@pytest.mark.parametrize(
    "text, linkmode",
    [
        ("[core]\nformatversion = 1\nlinkmode = copy\n  more\n", "copy\nmore"),  # a continuation line
        ("[core]\nlinkmode = caf\u00e9\n", "caf\u00e9"),  # not ASCII
        ("[core]\nlinkmode = copy\n[core]\n", None),  # a duplicate section: damage
        ("linkmode = copy\n", None),  # no section
    ],
)
def test_a_file_the_plain_parser_declines_is_read_by_configparser(tmp_path, text, linkmode):
    assert parse_plain(text) is None
    path = tmp_path / "config"
    path.write_text(text, encoding="utf-8")
    if linkmode is None:
        with pytest.raises(Corrupt, match="cannot parse"):
            Config(str(path))
    else:
        assert Config(str(path)).get("core.linkmode") == linkmode


def test_set_after_a_plain_read_keeps_the_other_values(tmp_path):
    path = tmp_path / "config"
    path.write_text("[core]\nformatversion = 1\nlinkmode = copy\n")
    config = Config(str(path))
    assert config.get("core.linkmode") == "copy"
    config.set("core.objects", "elsewhere")
    assert (config.get("core.linkmode"), config.get("core.objects")) == ("copy", "elsewhere")
    config.save()
    assert configparser_reads(path.read_text()) == {
        "core": {"formatversion": "1", "linkmode": "copy", "objects": "elsewhere"}}

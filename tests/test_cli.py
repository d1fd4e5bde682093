"""The command line: the hand-parsed fast path for the commonest invocations
behaves exactly as argparse does, and `ama status` imports only what it needs."""

import os
import subprocess
import sys

import pytest
from conftest import ok, write

from ama import cli

# Every fast-path argument list, plus near misses and errors that must go
# through argparse and come out the same.
ARGUMENT_LISTS = [
    *map(list, cli.FAST),
    ["status", "-z", "--porcelain"],
    ["status", "--porcelain", "--porcelain"],
    ["status", "--porcelain", "-uall"],
    ["status", "--bogus"],
    ["status", "nothing-here"],
    ["stat-check", "-q", "-z"],
    ["stat-check", "--untracked", "-a"],
    ["stat-check", "no-such-path"],
    ["stat-check", "--bogus"],
    ["statu"],
]


def test_every_fast_argument_list_gets_what_argparse_builds():
    for argv in cli.FAST:
        fast = vars(cli.parse(list(argv)))
        args, extra = cli._parser_for(list(argv)).parse_known_args(list(argv))
        assert extra == []
        slow = vars(args)
        assert fast.pop("_run") is slow.pop("_run"), argv
        fast.pop("_started", None)  # what the fast path of status began (in an ama repository)
        assert fast == slow, argv


@pytest.fixture
def in_process(monkeypatch, capsys, ama_env):
    """run(argv, fast) -> (rc, out, err) through ama.cli.main in this process,
    with or without the fast path."""
    for name, value in ama_env.items():
        if name.startswith("AMA_") or name == "HOME":
            monkeypatch.setenv(name, value)

    def run(argv, fast: bool):
        monkeypatch.setattr(cli, "FAST", cli.FAST if fast else {})
        capsys.readouterr()
        try:
            rc = cli.main(list(argv))
        except SystemExit as e:  # argparse's own exits (usage errors)
            rc = e.code
        out, err = capsys.readouterr()
        return rc, out, err

    return run


def dirty(repo, ama):
    write(repo / "a.bin", b"alpha")
    write(repo / "dir" / "b.bin", b"beta")
    write(repo / "dir" / "c.bin", b"gamma")
    ok(ama("add", "."))
    write(repo / "a.bin", b"alpha, edited")
    (repo / "dir" / "c.bin").unlink()
    write(repo / "new" / "x.bin", b"x")
    write(repo / "dir" / "y.bin", b"y")


@pytest.mark.parametrize("argv", ARGUMENT_LISTS, ids=" ".join)
def test_fast_path_and_argparse_give_the_same_output_and_exit(repo, ama, in_process, monkeypatch, argv):
    dirty(repo, ama)
    monkeypatch.chdir(repo)
    # Twice each, alternating: the first status may refresh the index.
    results = [in_process(argv, fast) for fast in (True, False, True, False)]
    assert results[0] == results[1] and results[2] == results[3], argv
    assert all(isinstance(r[0], int) for r in results)


@pytest.mark.parametrize("argv", [["status"], ["stat-check", "-q"]], ids=" ".join)
def test_fast_path_and_argparse_fail_the_same_outside_a_repository(tmp_path, in_process, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    fast, slow = in_process(argv, True), in_process(argv, False)
    assert fast == slow
    assert fast[0] != 0 and fast[2].count("\n") == 1


def test_status_imports_nothing_it_does_not_need(repo, ama, ama_env):
    write(repo / "a.bin", b"alpha")
    os.utime(repo / "a.bin", ns=(10**18, 10**18 - 10**12))  # not racy: a racy entry is hashed (threads)
    ok(ama("add", "a.bin"))
    script = (
        "import sys\n"
        "from ama.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "heavy = {'argparse', 're', 'enum', 'configparser', 'socket', 'typing', 'shutil', 'threading', 'importlib'}\n"
        "print(' '.join(sorted(heavy & set(sys.modules))))\n"
        "sys.exit(code)\n"
    )
    env = {k: v for k, v in ama_env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for argv in (["status"], ["status", "--porcelain"], ["stat-check"]):
        r = subprocess.run([sys.executable, "-c", script, *argv], cwd=repo, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[-1] == "", (argv, r.stdout)
    # A touched file is hashed and its snapshot written back under the index
    # lock (as the directory cache is): still nothing more.
    os.utime(repo / "a.bin", ns=(10**18, 10**18 - 10**11))
    before = (repo / ".ama" / "index").read_bytes()
    r = subprocess.run([sys.executable, "-c", script, "status"], cwd=repo, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == "", r.stdout + r.stderr
    assert (repo / ".ama" / "index").read_bytes() != before  # the refresh was written
    # Writing the directory cache (a temp file named with the host) neither.
    save = (
        "import sys\n"
        "from ama import dircache\n"
        "dircache.save(sys.argv[1], bytes(32), b'')\n"
        "print(' '.join(sorted({'re', 'enum', 'socket', 'typing', 'threading'} & set(sys.modules))))\n"
    )
    r = subprocess.run([sys.executable, "-c", save, str(repo / ".ama")], env=env, capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, "\n"), r.stderr


def test_a_command_line_off_the_fast_path_still_works(repo, ama):
    write(repo / "a.bin", b"alpha")
    ok(ama("add", "a.bin"))
    assert ok(ama("-C", str(repo), "status", "--porcelain")).out == "A  a.bin\n"
    assert os.path.exists(repo / ".ama" / "index")


def test_the_console_script_ends_status_without_the_teardown(repo, ama, ama_env):
    # As the console script (ama.cli:console), status and stat-check end the
    # process once their output is flushed, skipping the interpreter's
    # teardown; other commands, or any command with an exit handler or a
    # thread still running, exit as usual.
    for i in range(300):
        write(repo / "d" / f"f{i}.bin", b"x")
    ok(ama("add", "."))
    for i in range(0, 300, 2):
        (repo / "d" / f"f{i}.bin").unlink()
    script = (
        "import sys, atexit, threading\n"
        "from ama import cli\n"
        "class Last:\n"
        "    def __del__(self):\n"
        "        sys.stderr.write('torn down\\n')\n"
        "keep = Last()\n"
        "if sys.argv[1] == 'atexit':\n"
        "    atexit.register(lambda: sys.stderr.write('exit handler\\n'))\n"
        "if sys.argv[1] == 'thread':\n"
        "    threading.Thread(target=__import__('time').sleep, args=(0.2,)).start()\n"
        "sys.argv = ['ama', *sys.argv[2:]]\n"
        "cli.console()\n"
    )
    env = {k: v for k, v in ama_env.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(how, *argv):
        return subprocess.run([sys.executable, "-c", script, how, *argv], cwd=repo, env=env, capture_output=True,
                              text=True)

    expected = "".join(f"AD d/f{i}.bin\n" if i % 2 == 0 else f"A  d/f{i}.bin\n" for i in sorted(range(300), key=str))
    expected = "".join(sorted(expected.splitlines(keepends=True), key=lambda line: line[3:]))
    r = run("plain", "status", "--porcelain")
    assert (r.returncode, r.stdout, r.stderr) == (0, expected, "")  # every line out, nothing torn down
    r = run("plain", "stat-check", "-q")
    assert r.returncode == 1 and r.stderr == ""
    r = run("plain", "ls-files")
    assert r.returncode == 0 and r.stderr == "torn down\n"
    r = run("atexit", "status", "--porcelain")
    assert (r.returncode, r.stdout) == (0, expected) and r.stderr == "exit handler\ntorn down\n"
    r = run("thread", "status", "--porcelain")
    assert (r.returncode, r.stdout) == (0, expected) and r.stderr == "torn down\n"

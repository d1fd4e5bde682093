# The bench harness's bookkeeping (bench/timing.py, bench/report.py): two commands are
# run alternately and compared by the median of their paired ratios. Nothing here is
# timed: the commands are `true`/`false`, and the ratios are checked on made-up samples.

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import report  # noqa: E402
import timing  # noqa: E402
from suite import Row, Target  # noqa: E402

TRUE, FALSE = "/bin/true", "/bin/false"


def op(key: str, log: list[str], argv: str = TRUE, setup_fails: bool = False) -> timing.Op:
    def setup() -> None:
        log.append(f"setup {key}")
        if setup_fails:
            raise timing.CommandFailed(f"{key}: setup failed")

    return timing.Op(
        key,
        "tool",
        key,
        lambda: timing.Command([argv], Path("/")),
        setup=setup,
        before_each=lambda: log.append(key),
    )


def available(tool: str) -> str | None:
    return None


def test_runs_alternate_and_the_slower_side_stops_at_its_own_count():
    log: list[str] = []
    a, b = timing.measure_side_by_side([op("a", log), op("b", log)], [3, 2], 1, 60, available)
    assert log == ["setup a", "setup b", "a", "b", "a", "b", "a", "b", "a"]  # warm-up pair first
    assert (len(a.samples), len(b.samples)) == (3, 2)
    assert len(timing.paired_ratios(a, b)) == 2  # as many pairs as both have


def test_a_failing_side_keeps_no_samples_and_the_other_goes_on():
    log: list[str] = []
    a, b = timing.measure_side_by_side([op("a", log, FALSE), op("b", log)], [2, 2], 1, 60, available)
    assert a.error and not a.samples
    assert b.ok and len(b.samples) == 2
    assert log == ["setup a", "setup b", "a", "b", "b", "b"]
    assert timing.paired_ratios(a, b) == []


def test_a_failed_setup_or_a_skipped_tool_only_costs_its_own_side():
    log: list[str] = []
    a, b = timing.measure_side_by_side([op("a", log, setup_fails=True), op("b", log)], [2, 2], 0, 60, available)
    assert a.error == "a: setup failed" and b.ok
    a, b = timing.measure_side_by_side([op("a", []), op("b", [])], [2, 2], 0, 60, lambda tool: "not selected (--tools)")
    assert a.skipped == b.skipped == "not selected (--tools)"


def result(key: str, samples: list[float], rss: list[int] | None = None) -> timing.Result:
    r = timing.Result(key, "tool", key, samples=list(samples))
    r.maxrss_kib = list(rss or [])
    return r


def test_the_ratio_is_the_median_of_paired_ratios_not_the_ratio_of_medians():
    # the second pair ran in a slow spell that hit both sides
    a, b = result("a", [1.0, 10.0, 1.0]), result("b", [1.0, 10.0, 2.0])
    o = report.outcome(Row(("x",), "x", "a", "b", Target(0.9, "<= 0.9x")), a, b)
    assert o.ratios == [1.0, 1.0, 0.5]
    assert o.ratio == 1.0  # the ratio of the medians would say 0.5
    assert o.met == "NO"


def test_memory_rows_pair_peak_rss_and_check_an_absolute_limit():
    a = result("a", [1.0, 1.0], rss=[150_000, 160_000])
    b = result("b", [1.0, 1.0], rss=[50_000, 40_000])
    row = Row(("memory",), "x", "a", "b", Target(None, "< 200 MB", limit=200e6 / 1024), metric="rss")
    o = report.outcome(row, a, b)
    assert o.ratios == [3.0, 4.0] and o.ratio == 3.5
    assert o.ama_value == 160_000  # the largest peak of its runs
    assert o.met == "yes"
    over = report.outcome(row, result("a", [1.0], rss=[300_000]), result("b", [1.0], rss=[1]))
    assert over.met == "NO"
    unmeasured = report.outcome(row, timing.Result("a", "tool", "a", error="boom"), b)
    assert unmeasured.met == "?" and unmeasured.ratio is None


@pytest.mark.parametrize("max_ratio, limit, expected", [(2.0, 10.0, "yes"), (0.5, 10.0, "NO"), (2.0, 1.0, "NO")])
def test_a_target_with_a_ratio_and_a_limit_needs_both(max_ratio, limit, expected):
    a, b = result("a", [2.0, 2.0]), result("b", [2.0, 2.0])
    o = report.outcome(Row(("x",), "x", "a", "b", Target(max_ratio, "t", limit=limit)), a, b)
    assert o.met == expected


def test_the_chart_draws_rows_whose_target_has_no_ratio():
    a = result("a", [1.0], rss=[100])
    b = result("b", [1.0], rss=[50])
    row = Row(("memory",), "x", "a", "b", Target(None, "< 200 MB", limit=200e6 / 1024), metric="rss")
    svg = report.svg_chart([report.outcome(row, a, b)], "t")
    assert "2.00x" in svg

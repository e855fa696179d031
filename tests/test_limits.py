"""Every size and number bounded before work starts (asfl/limits.py, issue #17)."""

from __future__ import annotations

import pytest

from asfl import cli, limits
from asfl.errors import UsageError


def _main(argv):
    try:
        return cli.main(argv)
    except SystemExit as e:
        return e.code


def test_the_estimates_match_the_measured_runs():
    # measured (limits.py docstring): 633 events at n_c=8, n_a=4, R=4; 22,096 at n_c=64, n_a=16
    assert 500 < limits.events_estimate(8, 4, 4) < 800
    assert 20_000 < limits.events_estimate(64, 16, 4) < 25_000
    assert 0.5 < limits.memory_estimate(32, 4, 4, 100_000) / 2**30 < 0.8
    # measured 22.7 s at n_c=1000, n_a=4, R=1 and 97.8 s at n_c=2000
    assert 15 < limits.seconds_estimate(1000, 4, 1) < 35
    assert 70 < limits.seconds_estimate(2000, 4, 1) < 140


def test_the_memory_budget_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("ASFL_MEMORY_BUDGET", "500M")
    assert limits.memory_budget() == 500 * 2**20
    with pytest.raises(UsageError, match="memory"):
        limits.check_sizes(32, 4, 4, 100_000, "")
    monkeypatch.setenv("ASFL_MEMORY_BUDGET", "lots")
    with pytest.raises(UsageError, match="ASFL_MEMORY_BUDGET"):
        limits.memory_budget()


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["simulate", "--dim", "1000000000"], "--dim"),
        (["simulate", "--n-c", "100000000"], "--n-c"),
        (["simulate", "--rounds", "1000000000"], "--rounds"),
        (["simulate", "--n-c", "64", "--n-a", "16", "--t-a", "5", "--dim", "100000"], "memory"),
        (["check", "--n-c", "5000", "--rounds", "100"], "events"),
        (["simulate", "--n-c", "20000", "--rounds", "4"], "min"),
        (["check", "--max-examples", "100000000"], "--max-examples"),
        (["explore", "--max-states", "1000000000"], "--max-states"),
        (["explore", "--n-c", "1000"], "--n-c"),
        (["train", "--n-c", "0"], "--n-a"),
        (["train", "--clip", "inf"], "--clip"),
        (["train", "--lr", "inf"], "--lr"),
        (["train", "--epsilon", "nan"], "--epsilon"),
    ],
)
def test_out_of_bounds_is_refused_in_one_line_before_any_work(argv, needle, capsys):
    assert _main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_a_long_recording_is_refused_before_it_replays():
    from asfl.spec import Params

    with pytest.raises(UsageError, match="to replay"):
        limits.check_replay(Params(n_c=6000, t_c=1, n_a=4, t_a=1, R=1), 100_000, "t.itf.json")
    limits.check_replay(Params(n_c=8, t_c=1, n_a=4, t_a=1), 100_000, "t.itf.json")

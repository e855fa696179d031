"""The search on several workers (issue #14): the same verdict, traces and coverage with 1 or 2
local processes and on Ray, a killed worker's unit retried, the merge independent of order, time
budgets reproducible from their run count, failing runs replayed from an example database."""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import threading
import time
from multiprocessing import active_children

import pytest
from asfl.properties.search import units
from asfl.properties.search.runner import SearchReport, search_report
from asfl.properties.search.runs import SearchSetup
from asfl.properties.search.workers import run_ordered
from asfl.spec import Params

#: small and below the quorum conditions: P5, P7 and P9 fail within a dozen runs, the rest hold
UNSAFE = SearchSetup(Params(n_c=4, t_c=1, n_a=4, t_a=1, R=2, allow_unsafe=True))


def signature(report: SearchReport) -> dict:
    """Everything a verdict says, without the seconds."""
    return {
        "runs": report.runs,
        "steps": report.steps,
        "coverage": report.coverage.to_json(),
        "properties": {
            prop: (
                o.held,
                o.examples,
                o.exercised,
                str(o.violation),
                o.extra.get("run_index"),
                None if o.trace is None else [repr(e) for e in o.trace.events],
            )
            for prop, o in report.outcomes.items()
        },
    }


@pytest.fixture(scope="module")
def one_worker() -> dict:
    return signature(search_report(UNSAFE, max_examples=12, workers=1))


def test_one_and_two_workers_give_the_same_verdict_traces_and_coverage(one_worker):
    two = search_report(UNSAFE, max_examples=12, workers=2)
    assert two.stats.backend == "local processes"
    assert signature(two) == one_worker
    failed = {p for p, v in one_worker["properties"].items() if not v[0]}
    assert failed and failed != set(one_worker["properties"])  # some held, some did not


def test_a_worker_killed_with_sigkill_loses_no_run(one_worker):
    """SIGKILL to a worker's pid while the search runs: its units are retried, the verdict is the
    same."""
    found: dict = {}

    def run() -> None:
        try:
            found["report"] = search_report(UNSAFE, max_examples=12, workers=2)
        except BaseException as e:  # noqa: BLE001 - shown by the assertion below
            found["error"] = e

    search = threading.Thread(target=run)
    before = {p.pid for p in active_children()}
    search.start()
    victim = None
    end = time.monotonic() + 30
    while victim is None and time.monotonic() < end:
        fresh = [p for p in active_children() if p.pid not in before]
        if fresh:
            victim = fresh[0].pid
            os.kill(victim, signal.SIGKILL)
        time.sleep(0.005)
    search.join()
    assert victim is not None and "error" not in found, found.get("error")
    report = found["report"]
    assert report.stats.retried >= 1
    assert signature(report) == one_worker


def test_the_merge_does_not_depend_on_the_order_results_arrive_in():
    setup = UNSAFE
    planned = list(units.plan(units_passes(setup), ("P5", "P7", "P9"), 0, 12, ("P5", "P7", "P9")))
    results = [units.run_unit(u) for u in planned]
    shuffled = results[:]
    random.Random(1).shuffle(shuffled)
    a, b = units.merge(results, ("P5", "P7", "P9")), units.merge(shuffled, ("P5", "P7", "P9"))
    assert a.failures == b.failures and a.runs == b.runs and a.judged == b.judged
    assert a.coverage == b.coverage
    # the counterexample of each property is its failing run of the lowest order
    for prop, (failure, _at, _nth) in a.failures.items():
        earlier = [r for r in results if r.order < failure.order[:3] and prop in r.failures]
        assert not earlier


def units_passes(setup: SearchSetup) -> list[SearchSetup]:
    from asfl.properties.search.runner import search_passes

    return search_passes(setup, ("P5", "P7", "P9"))


def test_run_units_is_the_same_merge_on_any_workers():
    """The plain API a driver of its own calls (the mutation score): units in, merged results out."""
    planned = list(units.plan(units_passes(UNSAFE), ("P5", "P7", "P9"), 3, 8))
    here = units.run_units(planned, workers=1)
    there = units.run_units(planned, workers=2)

    def found(m: units.Merged) -> dict:  # without the seconds
        return {p: (f.order, f.run_seed, f.violation, nth) for p, (f, _at, nth) in m.failures.items()}

    assert found(here) == found(there) and here.judged == there.judged and here.runs == there.runs == 16
    assert here.coverage == there.coverage


def test_counterexamples_with_the_same_shrunk_trace_say_so():
    from asfl.properties.search.runner import PropertyResult, _same_traces
    from asfl.properties.traces.itf import Trace

    trace = Trace(params=UNSAFE.params, seed=0, events=[], byzantine=(1,))
    other = Trace(params=UNSAFE.params, seed=0, events=[], byzantine=(2,))
    found = {
        p: PropertyResult(p, False, 1, 0, 0.0, trace=t)
        for p, t in (("P5", trace), ("P6", trace), ("P7", other))
    }
    _same_traces(found)
    assert found["P6"].extra["same_trace_as"] == "P5"
    assert "same_trace_as" not in found["P5"].extra and "same_trace_as" not in found["P7"].extra


def test_units_and_run_seeds_do_not_depend_on_the_workers():
    """A unit is (properties, seed, pass, run range): run i of seed s is the same run everywhere."""
    plan = list(units.plan([UNSAFE], ("P1",), 7, 10))
    assert [(u.start, u.stop) for u in plan] == [(0, 4), (4, 8), (8, 10)]
    assert units.run_seed(7, 3) == units.run_seed(7, 3) != units.run_seed(8, 3)


def test_a_time_budget_reports_a_run_count_that_reproduces_the_search():
    budget = search_report(UNSAFE, ("P1", "P2"), time_budget=1.0)
    assert budget.runs_per_pass > 0 and budget.runs_per_pass % units.UNIT_RUNS == 0
    again = search_report(UNSAFE, ("P1", "P2"), max_examples=budget.runs_per_pass, seed_value=budget.seed)
    assert signature(again) == signature(budget)


def test_failing_runs_are_saved_and_replayed_first(tmp_path):
    first = search_report(UNSAFE, ("P7",), max_examples=12, db=tmp_path / "db")
    assert not first.outcomes["P7"].held and first.replayed == 0
    # another seed: its own runs hold P7 or not, the saved run comes first and fails it
    second = search_report(UNSAFE, ("P7",), max_examples=4, seed_value=99, db=tmp_path / "db")
    assert second.replayed >= 1
    outcome = second.outcomes["P7"]
    assert not outcome.held and outcome.extra["run_index"] is None  # a replayed run has no index
    assert outcome.trace.extra["run_seed"] == first.outcomes["P7"].trace.extra["run_seed"]


def test_run_ordered_returns_a_prefix_in_order_whatever_finishes_first():
    out, stats = run_ordered(_slow_square, range(12), workers=2, stop=lambda r: r >= 25)
    assert out == [0, 1, 4, 9, 16, 25]
    assert stats.backend == "local processes"


def _slow_square(x: int) -> int:
    time.sleep(0.05 * ((x * 7) % 3))  # later items finish first at times
    return x * x


def test_coverage_says_which_strategies_and_rules_the_runs_reached():
    silent = search_report(UNSAFE, ("P9",), max_examples=8).coverage
    swarm = search_report(UNSAFE, ("P1",), max_examples=8).coverage
    assert not any(k.startswith(("strategy: ", "injected: ")) for k in silent.offers)
    assert any(k.startswith("strategy: ") for k in swarm.offers)
    assert silent.runs == swarm.runs == 8
    assert all(0 < n <= 8 for n in swarm.rules.values())
    assert "i2_releases_data: with data" in swarm.rules
    assert swarm.states and len(swarm.states) >= len(silent.states) // 4


def test_check_prints_coverage_and_json_marks_vacuous_properties(capsys, tmp_path):
    from asfl import cli

    args = ["check", "--n-c", "4", "--t-c", "0", "--n-a", "4", "--t-a", "1", "--rounds", "1"]
    args += ["--max-examples", "4", "--properties", "P1,P8", "--out", str(tmp_path), "--workers", "2"]
    cli.main([*args, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["coverage"]["runs"] == 4 and doc["coverage"]["distinct_states"] > 0
    for p in doc["properties"]:
        assert p["vacuous"] == (p["held"] and p["exercised"] == 0)
    cli.main([*args, "--no-progress"])
    text = capsys.readouterr().out
    assert "coverage" in text and "rules of the table fired" in text and "reproduce:" in text


@pytest.mark.parametrize(
    "option, value, says",
    [
        ("--workers", "0", "--workers 0"),
        ("--time-budget", "soon", "--time-budget 'soon'"),
        ("--time-budget", "0s", "positive duration"),
    ],
)
def test_bad_worker_options_are_one_line_errors(option, value, says, capsys, tmp_path):
    from asfl import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["check", option, value, "--out", str(tmp_path)])
    code = exit_.value.code
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_ray_local_gives_the_same_verdict_traces_and_coverage(one_worker, monkeypatch, tmp_path):
    """One local Ray for this test only (its start-up costs seconds)."""
    ray = pytest.importorskip("ray")
    # Ray's workers start in the driver's working directory and import from it: in a checkout,
    # its asfl/ folder (the CLI alone) shadows the installed package (CI installs it, not editable)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd())])
    monkeypatch.chdir(tmp_path)
    try:
        report = search_report(UNSAFE, max_examples=12, workers=2, ray="local")
    finally:
        ray.shutdown()
    assert report.stats.backend == "ray"
    assert signature(report) == one_worker
    # the traces came back from other processes: they replay here, and are judged violations again
    from asfl.properties.search.runner import judge_trace

    violated = [o for o in report.outcomes.values() if not o.held]
    assert violated and all(judge_trace(o.trace) is not None for o in violated)


def test_values_keep_their_hash_across_processes_with_other_hash_seeds():
    """Forms and FMaps cache their hash; string hashes differ between processes (a Ray worker's
    are not the driver's), so they are pickled without it: a form made elsewhere is found here."""
    import pickle
    import subprocess
    import sys

    from asfl.properties.domains.symbolic import Form
    from asfl.spec.fmap import FMap

    made_elsewhere = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pickle, sys\n"
            "from asfl.properties.domains.symbolic import Form\n"
            "from asfl.spec.fmap import FMap\n"
            "f = Form(((('pad', 4, 0), 1), (('data', 4, 0), 2)))\n"
            "m = FMap({'a': f})\n"
            "hash(f), hash(m)\n"
            "sys.stdout.buffer.write(pickle.dumps((f, m)))\n",
        ],
        capture_output=True,
        check=True,
        # PYTHONSAFEPATH: not the checkout's asfl/ folder, which shadows the installed package
        env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONSAFEPATH": "1"},
    ).stdout
    form, fmap = pickle.loads(made_elsewhere)
    here = Form(((("pad", 4, 0), 1), (("data", 4, 0), 2)))
    assert form in {here} and fmap in {FMap({"a": here})}


def test_the_state_count_is_a_sketch_that_merges_in_any_order():
    """Exact below STATE_SKETCH distinct states, estimated within a few percent above, and the
    same whatever the order the reports are merged in."""
    from asfl.properties.judge.coverage import STATE_SKETCH, Coverage, digest, merged

    parts = [Coverage(runs=1, states={digest((k, i)) for i in range(STATE_SKETCH // 2)}) for k in range(5)]
    forward, backward = merged(parts), merged(reversed(parts))
    assert forward.states == backward.states and len(forward.states) == STATE_SKETCH
    assert abs(forward.distinct_states() - 5 * (STATE_SKETCH // 2)) < 0.03 * 5 * (STATE_SKETCH // 2)
    assert merged(parts[:1]).distinct_states() == STATE_SKETCH // 2  # exact below the sketch's size

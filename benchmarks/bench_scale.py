"""Benchmark of the search on several workers (issue #14; never run by the test command).

1. Runs per second of one search on the default configuration of `asfl check` (every property,
   `--max-examples` runs per pass) with 1 and 2 local worker processes, and with `--ray local`
   (Ray's start-up is timed apart); the load average is printed before and after each measure,
   since the machine is shared. The search phase only (the minimisation is timed apart).
2. The cost of a probe (coverage) per run: the same runs played with and without it.
3. A model of the merge's cost against N: per work unit, the seconds of its runs, the bytes and
   seconds of shipping it and its result (cloudpickle there, pickle back, as the local backend
   does) and the driver's seconds to merge it. The driver handles units one at a time, so N workers
   keep it busy a fraction N * driver / unit of the time; the projection for 64 workers follows.

    python benchmarks/bench_scale.py [--examples N] [--ray] [--json]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import pickle
import statistics
import time

import cloudpickle
from asfl.properties.judge.suite import PROPERTIES
from asfl.properties.search import units
from asfl.properties.search.runner import search_passes, search_report
from asfl.properties.search.runs import SearchSetup, run_with_seed
from asfl.spec import Params

DEFAULT = Params(n_c=12, t_c=1, n_a=4, t_a=1, R=4)  # asfl check's default configuration


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def throughput(examples: int, workers: int, ray: str | None = None) -> dict:
    before = load()
    report = search_report(SearchSetup(DEFAULT), PROPERTIES, max_examples=examples, workers=workers, ray=ray)
    return {
        "workers": workers,
        "backend": report.stats.backend,
        "runs": report.runs,
        "search_seconds": round(report.seconds, 2),
        "runs_per_second": round(report.runs / report.seconds, 2),
        "work_seconds": round(report.work_seconds, 2),
        "verdict": {p: o.held for p, o in report.outcomes.items()},
        "load_before": before,
        "load_after": load(),
    }


def probe_cost(runs: int) -> dict:
    from asfl.properties.judge.coverage import Probe

    setup = SearchSetup(DEFAULT)
    seeds = [units.run_seed(0, i) for i in range(runs)]
    start = time.perf_counter()
    for s in seeds:
        run_with_seed(setup, s)
    bare = time.perf_counter() - start
    start = time.perf_counter()
    for s in seeds:
        run_with_seed(setup, s, Probe())
    probed = time.perf_counter() - start
    return {"runs": runs, "bare_seconds": round(bare, 2), "with_probe_seconds": round(probed, 2)}


def merge_model(examples: int) -> dict:
    """Per unit of the default search: run seconds, shipping bytes and seconds, driver seconds."""
    passes = search_passes(SearchSetup(DEFAULT), PROPERTIES)
    plan = list(units.plan(passes, tuple(PROPERTIES), 0, examples))
    run_s, ship_s, ship_bytes, results = [], [], [], []
    for unit in plan:
        start = time.perf_counter()
        blob = cloudpickle.dumps((units.run_unit, unit))
        fn, item = cloudpickle.loads(blob)
        sent = time.perf_counter() - start
        start = time.perf_counter()
        result = fn(item)
        run_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        back = pickle.dumps(result)
        result = pickle.loads(back)
        ship_s.append(sent + time.perf_counter() - start)
        ship_bytes.append(len(blob) + len(back))
        results.append(result)
    merged = units.Merged()
    driver = []
    for r in results:
        start = time.perf_counter()
        merged.add(r)
        driver.append(time.perf_counter() - start)
    unit = statistics.mean(run_s)
    # the driver's share per unit: unpickling the result (counted in ship) and merging it
    per_unit_driver = statistics.mean(driver) + statistics.mean(ship_s) / 2
    return {
        "schedule_speedup": {n: round(sum(run_s) / makespan(run_s, n), 2) for n in (2, 8, 64)},
        "units": len(plan),
        "runs_per_unit": units.UNIT_RUNS,
        "unit_seconds_mean": round(unit, 4),
        "ship_bytes_mean": round(statistics.mean(ship_bytes)),
        "ship_seconds_mean": round(statistics.mean(ship_s), 5),
        "merge_seconds_mean": round(statistics.mean(driver), 5),
        "merge_seconds_last": round(driver[-1], 5),
        "driver_seconds_per_unit": round(per_unit_driver, 5),
        "driver_busy_at": {n: round(n * per_unit_driver / unit, 3) for n in (1, 2, 8, 64)},
        "max_workers_before_the_driver_saturates": int(unit / per_unit_driver),
    }


def _nothing(x: int) -> int:
    return x


def ray_roundtrip(ray, tasks: int = 50) -> float:
    """Seconds of one trivial Ray task, submitted and awaited one at a time (the latency a unit
    pays on Ray beyond its own work)."""
    task = ray.remote(_nothing)
    ray.get(task.remote(0))
    start = time.perf_counter()
    for i in range(tasks):
        ray.get(task.remote(i))
    return (time.perf_counter() - start) / tasks


def makespan(seconds: list[float], workers: int) -> float:
    """The end of the units taken in order by the first free of `workers` (the driver's schedule),
    with no cost beside the units' own: what the units allow on an idle machine."""
    free = [0.0] * workers
    end = 0.0
    for t in seconds:
        start = heapq.heappop(free)
        heapq.heappush(free, start + t)
        end = max(end, start + t)
    return end


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=40, help="runs per pass (default 40, the ci profile)")
    ap.add_argument("--ray", action="store_true", help="also measure --ray local")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out: dict = {"cores": len(os.sched_getaffinity(0))}
    rows = [throughput(args.examples, 1), throughput(args.examples, 2)]
    if args.ray:
        import ray

        start = time.perf_counter()
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        out["ray_start_seconds"] = round(time.perf_counter() - start, 1)
        rows.append(throughput(args.examples, 2, ray="local"))
        out["ray_task_roundtrip_ms"] = round(ray_roundtrip(ray) * 1e3, 2)
        ray.shutdown()
    out["throughput"] = rows
    out["speedup_2_over_1"] = round(rows[1]["runs_per_second"] / rows[0]["runs_per_second"], 2)
    out["same_verdict"] = all(r["verdict"] == rows[0]["verdict"] for r in rows)
    out["probe"] = probe_cost(16)
    out["merge"] = merge_model(args.examples)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"cores: {out['cores']}")
    for r in rows:
        print(
            f"{r['backend']:>16} x{r['workers']}: {r['runs']} runs in {r['search_seconds']} s = "
            f"{r['runs_per_second']} runs/s (load before {r['load_before']}, after {r['load_after']})"
        )
    if args.ray:
        print(
            f"ray start-up: {out['ray_start_seconds']} s (not counted above); "
            f"a trivial task's round trip {out['ray_task_roundtrip_ms']} ms"
        )
    print(f"2 workers / 1 worker: {out['speedup_2_over_1']}x; same verdict everywhere: {out['same_verdict']}")
    p = out["probe"]
    print(f"coverage probe: {p['runs']} runs {p['bare_seconds']} s bare, {p['with_probe_seconds']} s probed")
    m = out["merge"]
    print(
        f"merge model: {m['units']} units of {m['runs_per_unit']} runs, {m['unit_seconds_mean']} s each; "
        f"shipping {m['ship_bytes_mean']} B in {m['ship_seconds_mean'] * 1e3:.2f} ms; "
        f"merge {m['merge_seconds_mean'] * 1e3:.2f} ms (last unit {m['merge_seconds_last'] * 1e3:.2f} ms); "
        f"driver {m['driver_seconds_per_unit'] * 1e3:.2f} ms per unit"
    )
    bound = ", ".join(f"{n} workers {v}x" for n, v in m["schedule_speedup"].items())
    print(f"speedup the units' schedule allows (their own seconds, no contention): {bound}")
    busy = ", ".join(f"{n} workers {v:.1%}" for n, v in m["driver_busy_at"].items())
    print(f"driver busy: {busy}; it saturates past {m['max_workers_before_the_driver_saturates']} workers")


if __name__ == "__main__":
    main()

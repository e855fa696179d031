"""`asfl train`: federated training on real data through the protocol, with DP accounting.

Runs ASFL (the spec, `STANDARD` rules) in the discrete-event simulator on a scikit-learn dataset;
with `--compare` also plain FedAvg, central-DP FedAvg and the per-cluster DP baseline at the same
(epsilon, delta), paced ASFL, and ASFL without the inclusion mechanism. Prints per-round accuracy,
the privacy price (noise std of an averaged update, predicted and measured, against central DP's),
the stragglers (clients too slow to train Q times in the run's horizon) and a per-client epsilon
table, and writes PNG plots (and, with `--record`, the run for replay) to `--out`. With
`--epsilons` (and `--seeds`) it runs the comparison at every epsilon and seed and writes the
privacy-utility plot, accuracy against epsilon with seeds as bands.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path

from asfl.reference import accountant, datasets, experiment, recording
from asfl.reference.field import EncodingError
from asfl.reference.models import MODELS

from ..errors import UsageError, finished
from ..limits import finite
from ..safe_io import check_owned, output_dir, staged
from .common import print_json, write_atomic

#: bounds of a training run (asfl/limits.py): a round trains every client for --epochs on its share
#: of the data set, so time is linear in rounds x epochs (each round shows on the progress bar)
MAX_TRAIN_ROUNDS = 10_000
MAX_TRAIN_CLIENTS = 10_000
MAX_EPOCHS = 1_000
#: the L2 clip C scales the fixed-point encoding, which refuses a C without headroom in one line;
#: the bound keeps float arithmetic finite before it (C = inf raised OverflowError)
MAX_CLIP = 1e4
#: learning rates beyond this overflow float64 in a few steps
MAX_RATE = 1e3

#: what a run writes to --out: the directory is replaced as a whole (`safe_io.staged`)
OUTPUTS = ("accuracy.png", "epsilon.png", "results.json", "run.json", "privacy_utility.png")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="federated training on real data: ASFL and baselines")
    d = experiment.TrainConfig()
    p.add_argument(
        "--dataset", default=d.dataset, help=f"one of {', '.join(datasets.LOADERS)} (default digits)"
    )
    p.add_argument("--model", default=d.model, help=f"one of {', '.join(MODELS)} (default softmax)")
    p.add_argument("--rounds", type=int, default=d.rounds, help=f"rounds R (default {d.rounds})")
    p.add_argument("--n-c", type=int, default=d.n_c, help=f"clients (default {d.n_c})")
    p.add_argument("--t-c", type=int, default=d.t_c, help=f"clients that may crash (default {d.t_c})")
    p.add_argument("--n-a", type=int, default=d.n_a, help=f"aggregators (default {d.n_a})")
    p.add_argument("--t-a", type=int, default=d.t_a, help=f"Byzantine aggregators (default {d.t_a})")
    p.add_argument("--m", type=int, default=None, help="minimum set size (default min k_i - t_c)")
    p.add_argument(
        "--quota", type=int, default=d.quota, help="release quota Q (default max(1, (R-2)*m//k_max))"
    )
    p.add_argument(
        "--byzantine",
        default="silent",
        help=f"{', '.join(experiment.BYZANTINE)} (none: t_a tolerated, all correct; default silent)",
    )
    p.add_argument("--crashes", type=int, default=0, help="clients that actually crash (<= t_c, default 0)")
    p.add_argument("--epsilon", type=float, default=d.epsilon, help=f"target epsilon (default {d.epsilon})")
    p.add_argument("--delta", type=float, default=d.delta, help=f"target delta (default {d.delta})")
    p.add_argument("--partition", default=d.partition, help="iid or dirichlet (label skew; default iid)")
    p.add_argument(
        "--alpha", type=float, default=d.alpha, help=f"Dirichlet concentration (default {d.alpha})"
    )
    p.add_argument("--clip", type=float, default=d.clip, help=f"L2 clip norm C (default {d.clip})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"client learning rate (default {d.lr})")
    p.add_argument("--eta", type=float, default=d.eta, help=f"server learning rate (default {d.eta})")
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"local epochs (default {d.epochs})")
    p.add_argument(
        "--speeds", default=d.speeds, help="training durations: lognormal or pareto (default lognormal)"
    )
    p.add_argument(
        "--speed-spread", type=float, default=d.speed_spread, help="lognormal sigma, or 1/shape for pareto"
    )
    p.add_argument(
        "--a1", default="ideal", help="A1 share-sum check: ideal (the spec's predicate) or mac (linear MACs)"
    )
    p.add_argument(
        "--server-step",
        default=d.server_step,
        help="ASFL's server step per round: data (eta scaled by the round's expected data fraction; "
        "default) or constant (eta in every round, the step before 2026-12-06)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--compare",
        action="store_true",
        help="also run fedavg, central-dp, per-cluster-dp, asfl-paced, asfl-no-inclusion",
    )
    p.add_argument(
        "--epsilons", type=float, nargs="+", default=None, help="run at every one of these epsilons (a grid)"
    )
    p.add_argument(
        "--seeds", type=int, nargs="+", default=None, help="run every seed (a grid; default --seed)"
    )
    p.add_argument(
        "--method-eta",
        default="",
        help="per-method server step, e.g. central-dp=32,asfl-paced=24 (default --eta for every method)",
    )
    p.add_argument("--out", type=Path, default=None, help="directory for PNG plots and results.json")
    p.add_argument("--record", action="store_true", help="also write the ASFL run as run.json to --out")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(run=run)


def _config(args: argparse.Namespace) -> experiment.TrainConfig:
    checks = [
        (args.dataset in datasets.LOADERS, f"--dataset must be one of {', '.join(datasets.LOADERS)}"),
        (args.model in MODELS, f"--model must be one of {', '.join(MODELS)}"),
        (
            args.partition in datasets.PARTITIONS,
            f"--partition must be one of {', '.join(datasets.PARTITIONS)}",
        ),
        (
            args.byzantine in experiment.BYZANTINE,
            f"--byzantine must be one of {', '.join(experiment.BYZANTINE)}",
        ),
        (1 <= args.rounds <= MAX_TRAIN_ROUNDS, f"--rounds must be in 1..{MAX_TRAIN_ROUNDS}"),
        (1 <= args.n_a <= args.n_c, "--n-a must be at least 1 and at most --n-c"),
        (args.n_c <= MAX_TRAIN_CLIENTS, f"--n-c must be at most {MAX_TRAIN_CLIENTS}"),
        (args.t_c >= 0 and args.t_a >= 0, "--t-c and --t-a must be at least 0"),
        (1 <= args.epochs <= MAX_EPOCHS, f"--epochs must be in 1..{MAX_EPOCHS}"),
        (0 <= args.crashes <= args.t_c, "--crashes must be between 0 and --t-c"),
        (args.record <= (args.out is not None), "--record needs --out"),
        (args.a1 in ("ideal", "mac"), "--a1 must be ideal or mac"),
        (
            args.server_step in experiment.SERVER_STEPS,
            f"--server-step must be one of {', '.join(experiment.SERVER_STEPS)}",
        ),
        (args.speeds in ("lognormal", "pareto"), "--speeds must be lognormal or pareto"),
        (args.speeds == "lognormal" or args.speed_spread > 0, "--speed-spread must be positive for pareto"),
    ]
    checks += [
        (args.epsilons is None or all(e > 0 for e in args.epsilons), "--epsilons must be positive"),
        (args.seeds is None or len(set(args.seeds)) == len(args.seeds), "--seeds must be distinct"),
    ]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)
    # real numbers: finite, and within what the fixed-point encoding and the optimiser survive
    finite("--epsilon", args.epsilon, 0, 1e6)
    finite("--delta", args.delta, 0, 1 - 1e-12)
    finite("--clip", args.clip, 0, MAX_CLIP)
    finite("--lr", args.lr, 0, MAX_RATE)
    finite("--eta", args.eta, 0, MAX_RATE)
    finite("--alpha", args.alpha, 0, 1e6)
    finite("--speed-spread", args.speed_spread, 0, 100, low_open=False)
    return experiment.TrainConfig(
        dataset=args.dataset, model=args.model, rounds=args.rounds, n_c=args.n_c, t_c=args.t_c,
        n_a=args.n_a, t_a=args.t_a, m=args.m, quota=args.quota, byzantine=args.byzantine,
        crashes=args.crashes, epsilon=args.epsilon, delta=args.delta, partition=args.partition,
        alpha=args.alpha, clip=args.clip, lr=args.lr, eta=args.eta, epochs=args.epochs,
        speed_spread=args.speed_spread, seed=args.seed, a1=args.a1,
        speeds=args.speeds, server_step=args.server_step,
    )  # fmt: skip


def _method_etas(text: str, default: float) -> dict[str, float]:
    """--method-eta: `method=eta,...`; every other method keeps --eta."""
    etas = dict.fromkeys(experiment.METHODS, default)
    for item in filter(None, text.split(",")):
        name, sep, value = item.partition("=")
        try:
            eta = float(value)
        except ValueError:
            eta = -1.0
        if not sep or name not in etas or not eta > 0:
            raise UsageError(
                f"--method-eta: {item!r} is not METHOD=ETA with ETA > 0 and METHOD one of "
                + ", ".join(experiment.METHODS)
            )
        etas[name] = eta
    return etas


def _summary(res: experiment.RunResult) -> dict:
    eps = res.epsilons()
    finite = [e for e in eps.values() if e != float("inf")]
    return {
        "method": res.method,
        "partition": res.partition,
        "final_accuracy": res.accuracy,
        "finished": res.finished,
        "noise_multiplier": res.z,
        "curve": [{"time": t, "round": r, "accuracy": a} for t, r, a in res.curve],
        "releases": {str(c): p for c, p in sorted(res.releases.items())},
        "epsilon": {str(c): (e if e != float("inf") else None) for c, e in sorted(eps.items())},
        "epsilon_rdp_max": (
            accountant.rdp_epsilon(res.z, max(res.releases.values()), res.delta)
            if res.z and res.releases
            else None
        ),
        "epsilon_spread": res.epsilon_spread() if finite else None,
        "byzantine": list(res.byzantine),
        "refused_injections": res.extra.get("refused", {}),
        "stragglers": list(res.stragglers),
        "epsilon_spread_non_stragglers": (
            res.epsilon_spread(set(res.stragglers)) if finite and res.stragglers else None
        ),
        "noise": res.extra["noise"].to_json() if "noise" in res.extra else None,
    }


def _run_methods(
    cfg: experiment.TrainConfig,
    methods: list[str],
    etas: dict[str, float],
    bar,
    label: str = "",
    reuse: dict[str, experiment.RunResult] | None = None,
):
    """Every method on `cfg`, each at its own server step (a method in `reuse` is not run again);
    returns (setup at --eta, results)."""
    setups: dict[float, experiment.Setup] = {}

    def setup_for(eta: float) -> experiment.Setup:
        if eta not in setups:
            try:
                setups[eta] = experiment.setup(replace(cfg, eta=eta))
            except (ValueError, EncodingError) as e:
                raise UsageError(str(e)) from None
        return setups[eta]

    base = setup_for(cfg.eta)
    results: list[experiment.RunResult] = []
    for method in methods:
        if reuse and method in reuse:
            results.append(reuse[method])
            continue
        task = bar.add_task(f"{label}{method:<18}", total=cfg.rounds)

        def on_step(world, now, task=task):
            best = max((a.model_round for a in world.aggregators if a is not None), default=0)
            bar.update(task, completed=best)

        try:
            res = experiment.run_method(setup_for(etas[method]), method, on_step=on_step)
        except EncodingError as e:
            raise UsageError(f"{e}; lower the scale or --clip") from None
        bar.update(task, completed=cfg.rounds)
        results.append(res)
        finished(f"{label}{method} (not written)")
    return base, results


def _price_table(results: list[experiment.RunResult], title: str):
    """The privacy price: each private method's averaged-update noise std, predicted and measured,
    and as a multiple of central DP's; past the quota the signal is the data fraction (I2)."""
    from rich.table import Table

    noisy = [r for r in results if "noise" in r.extra]
    central = next((r.extra["noise"] for r in noisy if r.method == "central-dp"), None)
    table = Table(title=title)
    columns = ("method", "std pred.", "std meas.", "/central pred.", "/central meas.", "data frac.",
               "noise/signal /central")  # fmt: skip
    for col in columns:
        table.add_column(col, justify="right", min_width=17 if col == "method" else None)
    for r in noisy:
        n = r.extra["noise"]
        pred = f"{n.predicted_std / central.predicted_std:.2f}" if central else "-"
        meas = f"{n.measured_std / central.measured_std:.2f}" if central else "-"
        nts = f"{n.measured_std / central.measured_std / n.data_fraction_measured:.2f}" if central else "-"
        table.add_row(
            r.method, f"{n.predicted_std:.5f}", f"{n.measured_std:.5f}", pred, meas,
            f"{n.data_fraction_measured:.2f} ({n.data_fraction_predicted:.2f})", nts,
        )  # fmt: skip
    return table


def _straggler_lines(s: experiment.Setup, results: list[experiment.RunResult]) -> list[str]:
    """Balance stated precisely: who cannot reach Q trainings in the horizon, and the spread of
    the others' epsilons (P6's balance clause presumes a run long enough for them)."""
    import numpy as np

    med = float(np.median(s.durations))
    lines = []
    for r in results:
        if "horizon" not in r.extra:
            continue
        slow = r.stragglers
        eps = r.epsilons()
        who = ", ".join(
            f"{c} ({s.durations[c] / med:.1f}x median, {r.releases[c]} releases, eps {eps[c]:.2f})"
            for c in slow
        )
        lines.append(
            f"{r.method}: horizon {r.extra['horizon']:.1f}, Q={s.params.Q}: stragglers [{who or 'none'}]; "
            f"epsilon spread {r.epsilon_spread(set(slow)):.1%} over the other {len(eps) - len(slow)} "
            f"correct clients ({r.epsilon_spread():.1%} over all, max eps {max(eps.values()):.2f})"
        )
    return lines


def _run_grid(args: argparse.Namespace, cfg: experiment.TrainConfig, etas: dict[str, float]) -> int:
    """--epsilons/--seeds: every method at every (epsilon, seed); the privacy-utility plot."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    methods = list(experiment.METHODS) if args.compare else ["asfl"]
    epsilons = args.epsilons or [cfg.epsilon]
    seeds = args.seeds or [cfg.seed]
    console = Console(stderr=True, quiet=args.json)
    cells: list[dict] = []
    accuracy: dict[str, dict[float, list[float]]] = {m: {} for m in methods}
    prices, balance = {}, {}
    noiseless: dict[int, dict[str, experiment.RunResult]] = {}  # FedAvg does not depend on epsilon
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        for eps in epsilons:
            for seed in seeds:
                c = replace(cfg, epsilon=eps, seed=seed)
                s, results = _run_methods(
                    c, methods, etas, bar, f"eps {eps:g} seed {seed} ", noiseless.get(seed)
                )
                noiseless[seed] = {r.method: r for r in results if r.method == "fedavg"}
                for r in results:
                    accuracy[r.method].setdefault(eps, []).append(r.accuracy)
                cells.append({"epsilon": eps, "seed": seed, "Q": s.params.Q, "z_asfl": s.z,
                              "z_central": s.z_central, "runs": [_summary(r) for r in results]})  # fmt: skip
                prices.setdefault(eps, results)
                balance.setdefault(seed, _straggler_lines(s, results))
    doc = {"config": asdict(cfg), "method_eta": etas, "grid": cells}
    if args.out is not None:
        from asfl.reference import plots

        title = (
            f"{cfg.dataset}, {cfg.model}, {cfg.partition}, n_c={cfg.n_c}, seeds {', '.join(map(str, seeds))}"
        )
        # the set appears whole or not at all: staged beside --out, renamed once
        with staged(args.out, OUTPUTS) as stage:
            write_atomic(stage / "privacy_utility.png", plots.privacy_utility_plot(accuracy, title, methods))
            write_atomic(stage / "results.json", json.dumps(doc, indent=2))
    if args.json:
        print_json(doc)
        return 0 if all(run["finished"] for cell in cells for run in cell["runs"]) else 1
    out = Console()
    acc = Table(title=f"final test accuracy, mean over seeds {seeds} (min..max)")
    acc.add_column("method")
    for eps in epsilons:
        acc.add_column(f"eps {eps:g}", justify="right")
    for m in methods:
        row = []
        for eps in epsilons:
            v = accuracy[m][eps]
            row.append(f"{sum(v) / len(v):.3f}" + (f" ({min(v):.3f}..{max(v):.3f})" if len(v) > 1 else ""))
        acc.add_row(m, *row)
    out.print(acc)
    for eps, results in prices.items():
        out.print(_price_table(results, f"privacy price at epsilon {eps:g} (seed {seeds[0]})"))
    for seed, lines in balance.items():
        for line in lines:
            out.print(f"seed {seed}, {line}", markup=False)
    if args.out is not None:
        out.print(f"wrote {args.out / 'privacy_utility.png'}, {args.out / 'results.json'}")
    return 0 if all(run["finished"] for cell in cells for run in cell["runs"]) else 1


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    cfg = _config(args)
    if args.out is not None:  # before training: a refused --out must not cost the run (issue #17)
        output_dir(args.out, "--out")
        check_owned(args.out, OUTPUTS, "--out")
    etas = _method_etas(args.method_eta, cfg.eta)
    try:
        experiment.setup(cfg)  # refuse bad sizes with one line, before any progress bar
    except (ValueError, EncodingError) as e:
        raise UsageError(str(e)) from None
    if args.epsilons is not None or args.seeds is not None:
        if args.record:
            raise UsageError("--record records one run: not with --epsilons or --seeds")
        return _run_grid(args, cfg, etas)
    methods = list(experiment.METHODS) if args.compare else ["asfl"]
    console = Console(stderr=True, quiet=args.json)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        s, results = _run_methods(cfg, methods, etas, bar)
    summaries = [_summary(r) for r in results]
    header = {
        "config": asdict(cfg),
        "m": s.params.m,
        "Q": s.params.Q,
        "z_asfl": s.z,
        "z_central": s.z_central,
        "model_dim": s.params.d,
    }
    if args.out is not None:
        title = f"{cfg.dataset}, {cfg.model}, {cfg.partition}, eps={cfg.epsilon:g}, delta={cfg.delta:g}"
        from asfl.reference import plots

        # the set appears whole or not at all: staged beside --out, renamed once
        with staged(args.out, OUTPUTS) as stage:
            write_atomic(stage / "accuracy.png", plots.accuracy_plot(results, title))
            eps_png = plots.epsilon_plot(results, cfg.epsilon, title, list(s.durations))
            write_atomic(stage / "epsilon.png", eps_png)
            write_atomic(stage / "results.json", json.dumps({**header, "runs": summaries}, indent=2))
            asfl_run = next(r for r in results if r.method == "asfl")
            if args.record:
                rules_name = experiment.asfl_rules(cfg).name
                strategy = "silent" if cfg.byzantine == "none" else cfg.byzantine  # none: never called
                rec = recording.record(cfg, rules_name, strategy, asfl_run.extra["des"])
                write_atomic(stage / "run.json", json.dumps(rec))
    if args.json:
        print_json({**header, "runs": summaries})
        return 0 if all(r.finished for r in results) else 1
    out = Console()
    out.print(
        f"asfl train: {cfg.dataset}/{cfg.model}, n_c={cfg.n_c} n_a={cfg.n_a} t_a={cfg.t_a} m={s.params.m} "
        f"Q={s.params.Q} R={cfg.rounds}, target (eps={cfg.epsilon:g}, delta={cfg.delta:g}); "
        f"z_asfl={s.z:.3f}, z_central={s.z_central:.3f}; Byzantine {list(results[-1].byzantine) or '-'} "
        f"({cfg.byzantine})"
    )
    acc = Table(title="test accuracy per round")
    acc.add_column("round", justify="right")
    for r in results:
        acc.add_column(r.method, justify="right")
    for rnd in range(cfg.rounds + 1):
        row = [str(rnd)]
        for r in results:
            hit = [a for _, k, a in r.curve if k == rnd]
            row.append(f"{hit[0]:.3f}" if hit else "-")
        acc.add_row(*row)
    out.print(acc)
    eps_table = Table(title="per-client privacy: releases / exact epsilon (analytic Gaussian)")
    eps_table.add_column("client", justify="right")
    private = [r for r in results if r.z is not None]
    for r in private:
        eps_table.add_column(r.method, justify="right")
    all_eps = [r.epsilons() for r in private]
    for c in range(cfg.n_c):
        cells = [
            f"{r.releases[c]} / {e[c]:.3f}" if c in r.releases else "crashed"
            for r, e in zip(private, all_eps, strict=True)
        ]
        eps_table.add_row(str(c), *cells)
    eps_table.add_row("spread", *[f"{r.epsilon_spread():.1%}" for r in private])
    eps_table.add_row(
        "RDP bound, max",
        *[f"{accountant.rdp_epsilon(r.z, max(r.releases.values()), r.delta):.3f}" for r in private if r.z],
    )
    out.print(eps_table)
    out.print(
        _price_table(results, "privacy price: noise std of an averaged update (model units, before eta)")
    )
    for line in _straggler_lines(s, results):
        out.print(line, markup=False)
    for r in results:
        if r.extra.get("injected"):
            out.print(
                f"{r.method}: {r.extra['injected']} Byzantine injections, refused by {r.extra['refused']}"
            )
    if args.out is not None:
        out.print(
            f"wrote {args.out / 'accuracy.png'}, {args.out / 'epsilon.png'}, {args.out / 'results.json'}"
        )
    return 0 if all(r.finished for r in results) else 1

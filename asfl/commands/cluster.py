"""`asfl cluster up`: the protocol over real sockets, every aggregator and client its own process.

Spawns the cluster on loopback (127.0.0.1 only), shows progress, and exits 0 once every correct
client holds model R (and every correct aggregator completed round R), 1 if the timeout passes
first, 2 on bad input. Prints the rounds, the bytes on the wire and each party's state in a table
(`--json`: the same as JSON). Faults: `--byzantine STRATEGY[@J]` runs aggregator J (default the
last) as a Byzantine process with a strategy of the adversary library; `--kill PARTY@ROUND[+S]`
kills a party with SIGKILL once some correct client holds model ROUND, and restarts it from its
store S seconds later (without +S it stays dead: a crash, counted against t_a or t_c);
`--delay`/`--drop` put a fault proxy in front of every process. `--record FILE` writes the run as
a replayable record (`asfl replay FILE`).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from ..errors import UsageError
from .common import print_json

_KILL = re.compile(r"^([ac])(\d+)@(\d+)(?:\+(\d+(?:\.\d+)?))?$")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cluster", help="run aggregators and clients as processes on loopback")
    csub = p.add_subparsers(dest="cluster_command", required=True, parser_class=type(p))
    up = csub.add_parser("up", help="start a cluster, run R rounds, print the outcome")
    g = up.add_argument_group("configuration (PROTOCOL.md section 2)")
    g.add_argument("--n-c", type=int, default=8, help="clients (default 8)")
    g.add_argument("--t-c", type=int, default=1, help="clients that may crash (default 1)")
    g.add_argument("--n-a", type=int, default=4, help="aggregators (default 4)")
    g.add_argument("--t-a", type=int, default=1, help="Byzantine aggregators (default 1)")
    g.add_argument("--rounds", type=int, default=3, help="rounds R (default 3)")
    g.add_argument("--dim", type=int, default=4, help="model dimension d (default 4)")
    g.add_argument("--seed", type=int, default=0, help="seed of the field domain's values (default 0)")
    f = up.add_argument_group("faults")
    f.add_argument("--byzantine", metavar="STRATEGY[@J]", help="aggregator J (default n_a-1) runs STRATEGY")
    f.add_argument(
        "--kill", metavar="PARTY@ROUND[+S]", action="append", default=[], help="e.g. a1@1+0.5 or c3@2"
    )
    f.add_argument("--delay", type=float, default=0.0, help="proxy: max delay per frame in seconds")
    f.add_argument("--drop", type=float, default=0.0, help="proxy: probability of dropping a frame")
    o = up.add_argument_group("run and output")
    o.add_argument("--train-time", type=float, default=0.02, help="median seconds a client trains")
    o.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds")
    o.add_argument("--out", help="cluster directory: config, keys, stores, logs (default: a temp dir)")
    o.add_argument(
        "--record",
        help="write the run for 'asfl replay FILE': a record of the processes' outcome, or with a "
        ".itf.json name an ITF trace (asfl show draws it)",
    )
    o.add_argument("--json", action="store_true", help="print the outcome as JSON")
    up.set_defaults(run=run)


def _params(args: argparse.Namespace):
    from asfl.spec.errors import ParamsError
    from asfl.spec.params import Params

    try:
        return Params(n_c=args.n_c, t_c=args.t_c, n_a=args.n_a, t_a=args.t_a, R=args.rounds, d=args.dim)
    except ParamsError as e:
        raise UsageError(f"parameters refused by {e.condition}: {e.reason}") from e


def parse_faults(args: argparse.Namespace, params) -> tuple[dict[int, str], list]:
    from asfl.reference.runtime.cluster import Kill
    from asfl.spec.messages import Party

    from .serve import strategy_names

    byzantine: dict[int, str] = {}
    if args.byzantine:
        name, _, j = args.byzantine.partition("@")
        if name not in strategy_names():
            raise UsageError(
                f"unknown Byzantine strategy {name!r}; choose one of {', '.join(strategy_names())}"
            )
        if j and not j.isdigit():
            raise UsageError(f"--byzantine {args.byzantine}: J must be an aggregator index")
        index = int(j) if j else params.n_a - 1
        if not 0 <= index < params.n_a or params.t_a < 1:
            raise UsageError(f"--byzantine: need 0 <= J < n_a={params.n_a} and t_a >= 1")
        byzantine[index] = name
    kills = []
    for text in args.kill:
        m = _KILL.match(text)
        if not m:
            raise UsageError(f"--kill {text}: expected PARTY@ROUND[+SECONDS], e.g. a1@1+0.5 or c3@2")
        role, index, at, after = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
        if index >= (params.n_a if role == "a" else params.n_c) or at > params.R:
            raise UsageError(f"--kill {text}: no such party, or round past R={params.R}")
        if role == "a" and index in byzantine:
            raise UsageError(f"--kill {text}: a{index} is the Byzantine aggregator")
        kills.append(Kill(Party(role, index), at, float(after) if after is not None else None))
    dead_a = {k.party for k in kills if k.party.role == "a" and k.restart_after is None}
    dead_c = {k.party for k in kills if k.party.role == "c" and k.restart_after is None}
    if len(dead_a) + len(byzantine) > params.t_a:
        raise UsageError(
            f"{len(byzantine)} Byzantine and {len(dead_a)} dead aggregators exceed t_a={params.t_a}"
        )
    if len(dead_c) > params.t_c:
        raise UsageError(f"{len(dead_c)} dead clients exceed t_c={params.t_c}")
    if len({k.party for k in kills}) != len(kills):
        raise UsageError("--kill names one party twice")
    return byzantine, kills


def run(args: argparse.Namespace) -> int:
    from asfl.reference.runtime.cluster import Cluster, ClusterError
    from asfl.reference.runtime.proxy import Faults
    from asfl.reference.runtime.trace import TraceError, merge, record, write_record

    from .serve import serve_party

    params = _params(args)
    byzantine, kills = parse_faults(args, params)
    if not 0 <= args.drop < 1 or args.delay < 0 or args.train_time <= 0 or args.timeout <= 0:
        raise UsageError("need 0 <= --drop < 1, --delay >= 0, --train-time > 0 and --timeout > 0")
    if args.out:
        directory = Path(args.out)
        if directory.exists() and any(directory.iterdir()):
            raise UsageError(f"--out {directory} is not empty (a store there would be resumed)")
    else:
        directory = Path(tempfile.mkdtemp(prefix="asfl-cluster-"))
    quiet = args.json

    def progress(line: str) -> None:
        if not quiet:
            print(line, file=sys.stderr, flush=True)

    faults = Faults(delay=args.delay, drop=args.drop, seed=args.seed)
    try:
        cluster = Cluster(
            directory, params, args.seed, byzantine, faults, args.train_time, target=serve_party
        )
        progress(
            f"asfl cluster up: n_c={params.n_c} t_c={params.t_c} n_a={params.n_a} t_a={params.t_a} "
            f"T={params.T} m={params.m} R={params.R} d={params.d}, {len(cluster.parties())} processes on "
            f"127.0.0.1, directory {directory}"
        )
        try:
            outcome = cluster.run(kills, timeout=args.timeout, progress=progress)
        except ClusterError as e:
            print(f"asfl: error: {e}", file=sys.stderr)
            return 1
        summary = outcome.summary()
        if args.record:
            crashed = [int(p[1:]) for p in outcome.faulty if p[0] == "c"]
            merged = merge(cluster.cfg, crashed)
            if args.record.endswith(".itf.json"):
                from . import runtime_itf

                runtime_itf.write(Path(args.record), merged, cluster.cfg, summary)
            else:
                write_record(Path(args.record), record(cluster.cfg, outcome.statuses, outcome.faulty, merged))
            summary["record"] = {"file": args.record, "events": len(merged.events)}
    except TraceError as e:
        print(f"asfl: error: the run does not merge into one schedule ({e})", file=sys.stderr)
        return 1
    finally:
        if not args.out:
            shutil.rmtree(directory, ignore_errors=True)
    if args.json:
        print_json(summary)
    else:
        print_table(summary, outcome.faulty)
    return 0 if outcome.finished else 1


def print_table(s: dict, faulty: list[str]) -> None:
    p = s["params"]
    status = "finished" if s["finished"] else "did NOT finish"
    rps = s["rounds_per_second"]
    print(f"{status}: {s['rounds']} rounds in {s['seconds']:.1f} s ({rps} rounds/s)")
    cols = ["party", "state", "model", "released", "endorsed", "certified", "refused", "frames", "bytes sent",
            "bytes recv"]  # fmt: skip
    rows = []
    for name, st in sorted(s["parties"].items(), key=lambda kv: (kv[0][0], int(kv[0][1:]))):
        stats = st.get("stats", {})
        if st.get("byzantine"):
            state = f"byzantine:{st.get('strategy')}"
        elif name in faulty:
            state = "killed"
        elif st.get("recovered_inputs"):
            state = "restarted"
        else:
            state = "correct"
        rows.append(
            [
                name,
                state,
                str(st.get("model_round", "-")),
                str(st.get("released", "-")),
                str(st.get("endorsed", "-")),
                str(len(st["certified"])) if "certified" in st else "-",
                str(sum(st.get("refused", {}).values())),
                str(stats.get("frames_sent", 0)),
                str(stats.get("bytes_sent", 0)),
                str(stats.get("bytes_received", 0)),
            ]
        )
    widths = [max(len(c), *(len(r[k]) for r in rows)) for k, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
    ratio = s["upload_per_contribution_over_model"]
    print(f"bytes on the wire: {s['bytes_on_wire']} ({s['bytes_retransmitted']} re-sent by the links)")
    print(
        f"upload per client: {s['upload_bytes_per_client']} B; per contribution {ratio}x the model "
        f"({s['model_bytes']} B), the simulator's accounting {s['simulator_upload_over_model']}x "
        f"(y and n_a={p['n_a']} shares with MAC tags; no signatures, sealing or framing)"
    )
    if s.get("killed"):
        print(
            "killed: "
            + ", ".join(f"{k['party']} at round {k['at_round']} (t={k['t']} s)" for k in s["killed"])
        )
    if s.get("proxy"):
        print(f"proxy: {s['proxy']}")
    if s.get("record"):
        print(f"record: {s['record']['file']} ({s['record']['events']} events)")

"""The mutant catalogue's total audit time and the median time to kill, printed, never asserted.

python benchmarks/bench_audit.py [--max-examples N]

(d) marks a kill only the directed search found (properties/search/focus.py).
"""

from __future__ import annotations

import argparse
import statistics
import time

from asfl.properties.audit.compare import catalogue, kill
from asfl.spec import Params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-examples", type=int, default=15)
    args = ap.parse_args()
    base = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=4)  # the default configuration of asfl audit
    start = time.perf_counter()
    times = []
    print(f"{'mutant':24} {'killed by':28} {'s to kill':>9} {'trace':>6}")
    for variant in catalogue():
        row = kill(variant, base, args.max_examples)
        if row.seconds_to_kill is not None:
            times.append(row.seconds_to_kill)
        to_kill = f"{row.seconds_to_kill:.2f}" if row.seconds_to_kill is not None else "-"
        killers = ",".join(p + ("(d)" if p in row.directed else "") for p in row.killed_by) or "-"
        print(f"{row.mutant:24} {killers:28} {to_kill:>9} {row.trace_steps or '-':>6}")
    total = time.perf_counter() - start
    print(
        f"catalogue: {len(catalogue())} mutants, total audit {total:.1f} s, "
        f"median time to kill {statistics.median(times):.2f} s"
    )


if __name__ == "__main__":
    main()

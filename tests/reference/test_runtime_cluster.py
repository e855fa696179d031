"""The spec over real sockets (issue 15): whole clusters of OS processes on loopback.

1. `asfl cluster up --n-a 4 --t-a 1 --n-c 8 --rounds 3 --record` finishes, and `asfl replay` of
   the record, the same schedule re-applied with `spec.world.step` as the simulator does, reaches
   the same certified sets and the same models as the processes held.
2. Under faults at once: a Byzantine process running the `equivocating` adversary, a fault proxy
   that delays, reorders and drops frames, aggregator a1 killed with SIGKILL mid-round and restarted
   from its store, and a client killed for good. Every correct party finishes; a1 carried on from its
   store (its durable endorsements agree with the replay); P2 holds on the recorded trace; the
   equivocation was refused (Q2 write-once) and every model a correct client holds is a model a
   correct aggregator computed. Written as an ITF trace, `asfl replay` re-judges P2 on it: held.
"""

from __future__ import annotations

import json
from pathlib import Path

from asfl.reference.runtime.cluster import Cluster, Kill
from asfl.reference.runtime.proxy import Faults
from asfl.reference.runtime.store import read_registers
from asfl.reference.runtime.trace import check, merge, record, set_uniqueness_problems, write_record
from asfl.spec.messages import aggregator, client
from asfl.spec.params import Params

from asfl.cli import main
from asfl.commands import runtime_itf
from asfl.commands.serve import serve_party

P = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3, d=4)


def test_cluster_up_finishes_and_replays_to_the_same_sets_and_models(tmp_path: Path, capsys) -> None:
    rec_path = tmp_path / "run.json"
    argv = ["cluster", "up", "--n-a", "4", "--t-a", "1", "--n-c", "8", "--rounds", "3"]
    code = main(
        [*argv, "--out", str(tmp_path / "cluster"), "--record", str(rec_path), "--json", "--timeout", "90"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["finished"]
    parties = out["parties"]
    assert [parties[f"c{c}"]["model_round"] for c in range(8)] == [3] * 8
    assert [parties[f"a{j}"]["model_round"] for j in range(4)] == [3] * 4
    assert out["bytes_on_wire"] > 0 and out["record"]["events"] > 0

    assert main(["replay", str(rec_path), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["same_as_recorded"] and verdict["P2"] == "holds" and verdict["certified"] >= 3 * 3
    rec = json.loads(rec_path.read_text())
    # what the replayed world reached is what the processes reported, party by party
    for j in range(4):
        assert rec["models"][f"a{j}"][:2] == [
            parties[f"a{j}"]["model_round"],
            parties[f"a{j}"]["model_digest"],
        ]
    for c in range(8):
        mine = parties[f"c{c}"]
        assert rec["models"][f"c{c}"] == [mine["model_round"], mine["model_digest"], mine["released"]]
    # a record that has been tampered with does not replay as recorded
    rec["events"] = rec["events"][: len(rec["events"]) // 2]
    write_record(rec_path, rec)
    assert main(["replay", str(rec_path)]) == 1


def test_byzantine_equivocator_proxy_faults_and_kill9_restart(tmp_path: Path, capsys) -> None:
    cluster = Cluster(
        tmp_path,
        P,
        seed=3,
        byzantine={3: "equivocating"},
        faults=Faults(delay=0.01, drop=0.05, seed=3),
        target=serve_party,
    )
    kills = [Kill(aggregator(1), at_round=1, restart_after=0.3), Kill(client(5), at_round=2)]
    outcome = cluster.run(kills, timeout=120)
    assert outcome.finished, outcome.summary()
    st = outcome.statuses
    correct_aggs = ["a0", "a1", "a2"]
    assert all(st[a]["model_round"] == P.R for a in correct_aggs)
    assert all(st[f"c{c}"]["model_round"] == P.R for c in range(P.n_c) if c != 5)
    # a1 was killed mid-round and carried on from its store
    assert [k["party"] for k in outcome.killed] == ["a1", "c5"]
    assert st["a1"]["recovered_inputs"] > 0
    # the proxy dropped frames, the links re-sent them
    assert outcome.proxy["dropped"] > 0
    assert sum(st[a]["stats"].get("retransmitted", 0) for a in st) > 0
    # the equivocating coordinator asked for several sets; correct endorsers refused all but one
    assert st["a3"]["stats"]["injected"] > 0
    assert sum(st[a]["refused"].get("Q2 write-once", 0) for a in correct_aggs) > 0
    # correct clients accept only certified models: each holds the model of a correct aggregator
    honest = {st[a]["model_digest"] for a in correct_aggs}
    assert all(st[f"c{c}"]["model_digest"] in honest for c in range(P.n_c) if c != 5)

    merged = merge(cluster.cfg, crashed=[5])
    rec = record(cluster.cfg, outcome.statuses, outcome.faulty, merged)
    assert rec["crashed"] == [5] and any("inject" in e for e in rec["events"])
    world, problems = check(rec)
    assert problems == []
    assert set_uniqueness_problems(world) == []
    # the same schedule as an ITF trace: the verification's own judge finds P2 held on it
    itf = runtime_itf.write(tmp_path / "run.itf.json", merged, cluster.cfg, outcome.summary())
    assert main(["replay", str(itf), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["property"] == "P2" and not verdict["violated"] and verdict["first_state_mismatch"] is None
    # the durable registers of the killed aggregator agree with the state the schedule gives it
    registers = read_registers(cluster.cfg.store_path(aggregator(1)))
    a1 = world.aggregators[1]
    endorsed = {k: v for k, v in registers.items() if k.startswith("endorsed/")}
    assert endorsed == {f"endorsed/{r}/{i}": json.dumps(sorted(s)) for (r, i), s in a1.endorsed.items()}
    assert {k for k in registers if k.startswith("revealed/")} == {
        f"revealed/{r}/{i}" for r, i in a1.revealed
    }
    for c in range(P.n_c):
        if c != 5:
            regs = read_registers(cluster.cfg.store_path(client(c)))
            assert int(regs.get("released", 0)) == world.clients[c].released <= P.Q


def test_forged_models_from_a_byzantine_process_are_refused(tmp_path: Path) -> None:
    """A Byzantine process running the reference's `forged-model` injection (it rebuilds proofs from
    the real CERTIFY signatures it received and sends clients an altered model) changes nothing
    correct clients accept. Its forgeries usually arrive after the honest model and are refused as
    not newer; `test_runtime_wire.py` refuses one by its proof (P4) deterministically."""
    params = Params(n_c=4, t_c=0, n_a=4, t_a=1, R=2, d=4)
    cluster = Cluster(tmp_path, params, seed=1, byzantine={0: "forged-model"}, target=serve_party)
    outcome = cluster.run(timeout=90)
    assert outcome.finished, outcome.summary()
    st = outcome.statuses
    assert st["a0"]["stats"]["injected"] > 0
    honest = {st[f"a{j}"]["model_digest"] for j in (1, 2, 3)}
    assert all(st[f"c{c}"]["model_digest"] in honest for c in range(params.n_c))
    world, problems = check(record(cluster.cfg, outcome.statuses, outcome.faulty))
    assert problems == [] and set_uniqueness_problems(world) == []

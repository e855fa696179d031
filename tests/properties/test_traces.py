"""ITF traces: a recorded run round-trips, replays state for state, and names protocol changes."""

from __future__ import annotations

import dataclasses
import json

from asfl.properties.traces.itf import (
    RULESETS,
    Trace,
    protocol_fingerprint,
    read_itf,
    register_rules,
    replay,
    write_itf,
)
from asfl.reference.simulator import simulate
from asfl.spec import STANDARD, Params

P = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=2)


def _recorded(tmp_path):
    res = simulate(P, 5)
    path = write_itf(tmp_path / "run.itf.json", Trace(P, 5, res.events, res.byzantine))
    return res, path


def test_itf_file_has_meta_and_one_state_per_action(tmp_path):
    res, path = _recorded(tmp_path)
    doc = json.loads(path.read_text())
    meta = doc["#meta"]
    assert meta["format"] == "ITF" and meta["fingerprint"] == protocol_fingerprint(STANDARD)
    assert meta["seed"] == 5 and meta["params"]["n_c"] == 8 and meta["status"] == "ok"
    assert len(doc["states"]) == len(res.events) + 1
    assert doc["states"][0]["action"] == {"type": "Init"}
    assert all("action" in s and s["#meta"]["index"] == k for k, s in enumerate(doc["states"]))


def test_replay_reproduces_every_state(tmp_path):
    res, path = _recorded(tmp_path)
    trace = read_itf(path)
    assert trace.events == res.events
    out = replay(trace)
    assert out.first_mismatch is None and not out.protocol_changed
    assert out.worlds[-1] == res.world


def test_replay_reports_a_diverging_state(tmp_path):
    _, path = _recorded(tmp_path)
    doc = json.loads(path.read_text())
    doc["states"][7]["in_flight"] += 1
    path.write_text(json.dumps(doc))
    assert replay(read_itf(path)).first_mismatch == 7


def test_fingerprint_names_a_changed_rule_table(tmp_path):
    variant = dataclasses.replace(STANDARD, name="wait-all-test", averaging_quorum=lambda p: p.n_a)
    register_rules(variant)
    try:
        assert protocol_fingerprint(variant) != protocol_fingerprint(STANDARD)
        _, path = _recorded(tmp_path)
        doc = json.loads(path.read_text())
        doc["#meta"]["fingerprint"] = "0" * 16
        path.write_text(json.dumps(doc))
        assert replay(read_itf(path)).protocol_changed
    finally:
        RULESETS.pop("wait-all-test")


def test_not_a_trace_is_refused(tmp_path):
    import pytest

    bad = tmp_path / "x.itf.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="malformed|not an asfl"):
        read_itf(bad)
    bad.write_text("not json")
    with pytest.raises(ValueError, match="cannot read"):
        read_itf(bad)

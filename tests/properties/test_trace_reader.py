"""The bounded, typed ITF reader (properties/traces/reader.py, issue #17): any JSON is a Trace or a
one-line TraceError naming the field, never another exception."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from asfl.properties.traces.reader import MAX_DEPTH, TraceError, read_trace, trace_from_document
from asfl.reference.safe_read import InputError, json_depth
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PINNED = Path(__file__).parent / "traces" / "F1-share-sum-at-once.itf.json"


def _pinned() -> dict:
    return json.loads(PINNED.read_text())


def test_the_pinned_traces_read():
    for path in sorted(PINNED.parent.glob("*.itf.json")):
        assert read_trace(path).events


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d.update({"#meta": "x"}), "#meta"),
        (lambda d: d["#meta"].update({"params": "x"}), "#meta.params"),
        (lambda d: d["#meta"]["params"].update({"n_c": "8"}), "#meta.params.n_c"),
        (lambda d: d["#meta"]["params"].update({"clip": 1.0}), "#meta.params.clip"),
        (lambda d: d["#meta"]["params"].update({"n_c": 0}), "#meta.params"),
        (lambda d: d["#meta"].update({"seed": 1.5}), "#meta.seed"),
        (lambda d: d["#meta"].update({"byzantine": [1]}), "#meta.byzantine"),
        (lambda d: d["#meta"].update({"byzantine": {"#tup": [99]}}), "#meta.byzantine"),
        (lambda d: d["#meta"].update({"byzantine": {"#tup": [0, 1]}}), "#meta.byzantine"),  # > t_a
        (lambda d: d.update({"states": []}), "states"),
        (lambda d: d.update({"states": {}}), "states"),
        (lambda d: d["states"].__setitem__(1, 5), "states[1]"),
        (lambda d: d["states"][1].update({"action": {"type": "Nope"}}), "states[1].action"),
        (lambda d: d["states"][1].update({"action": {"type": "Party", "kind": "c"}}), "states[1]"),
        (lambda d: d["states"][0].update({"action": {"type": "Crash", "c": 0}}), "states[0].action"),
        (lambda d: d.update({"loop": -1}), "loop"),
        (lambda d: d["#meta"].update({"fair_from": "3"}), "#meta.fair_from"),
        (lambda d: d["#meta"].update({"raises": 7}), "#meta.raises"),
        (lambda d: d["#meta"].update({"raises": {"type": "Init"}}), "#meta.raises"),
    ],
)
def test_a_field_of_the_wrong_type_is_named(mutate, field):
    doc = _pinned()
    mutate(doc)
    with pytest.raises(TraceError) as e:
        trace_from_document(doc, "t.itf.json")
    assert f": {field}" in str(e.value) and "\n" not in str(e.value)


def test_files_that_are_not_traces_are_refused_without_reading_them(tmp_path):
    deep = tmp_path / "deep.itf.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    binary = tmp_path / "bin.itf.json"
    binary.write_bytes(b"\xff\xfe\x00")
    fifo = tmp_path / "fifo.itf.json"
    os.mkfifo(fifo)
    for path, needle in [
        (deep, "nested"),
        (binary, "UTF-8"),
        (fifo, "FIFO"),
        ("/dev/zero", "character device"),
        (tmp_path, "directory"),
        (tmp_path / "missing", "cannot read"),
    ]:
        with pytest.raises(InputError, match=needle):
            read_trace(path)


def test_json_depth_skips_strings():
    assert json_depth('{"a": "[[[[{{{{"}') == 1
    assert json_depth('[["\\"[", []]]') == 3
    assert json_depth("3") == 0


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
_keys = st.sampled_from(["#meta", "states", "loop", "params", "action", "type", "#tup", "#map", "#bigint"])


@st.composite
def _near_traces(draw):
    """Arbitrary JSON, and the pinned trace with one field replaced by arbitrary JSON."""
    if draw(st.booleans()):
        return draw(_json)
    doc = _pinned()
    doc["states"] = doc["states"][:4]
    target = draw(st.sampled_from(["top", "meta", "params", "state", "action"]))
    holder = {
        "top": doc,
        "meta": doc["#meta"],
        "params": doc["#meta"]["params"],
        "state": doc["states"][draw(st.integers(0, 3))],
        "action": doc["states"][draw(st.integers(1, 3))]["action"],
    }[target]
    key = draw(st.sampled_from(sorted(holder)) | _keys)
    holder[key] = draw(_json)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(_near_traces())
def test_any_json_is_a_trace_or_one_line_naming_the_field(document):
    try:
        trace = trace_from_document(document, "t.itf.json")
    except TraceError as e:
        assert str(e).startswith("t.itf.json: ") and "\n" not in str(e)
    else:
        assert len(trace.summaries) == len(trace.events) + 1


def test_depth_limit_is_above_what_our_traces_need():
    assert json_depth(PINNED.read_text()) < MAX_DEPTH


def test_a_raised_trace_keeps_its_raising_action_and_one_without_is_refused_on_replay(tmp_path, capsys):
    """A RAISED trace (issue 13) names the action the spec raised on (#meta.raises, read as a spec
    action); one that names none cannot be judged: one line, exit 2."""
    from asfl import cli

    doc = _pinned()
    raising = doc["states"][-1]["action"]
    doc["states"] = doc["states"][:-1]
    doc["#meta"].update({"property": "raised", "raises": raising})
    trace = trace_from_document(doc, "t.itf.json")
    assert trace.raises is not None and trace.property == "raised"
    assert trace.to_itf()["#meta"]["raises"] == raising
    del doc["#meta"]["raises"]
    path = tmp_path / "t.itf.json"
    path.write_text(json.dumps(doc))
    try:
        code = cli.main(["replay", str(path)])
    except SystemExit as e:
        code = int(e.code)
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "#meta.raises" in err

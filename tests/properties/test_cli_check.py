"""`asfl check` and `asfl replay`: exit 0 when every property held, 1 on a violation (with a trace
that replays), 2 on bad input, one line and no traceback."""

from __future__ import annotations

import json

import pytest

from asfl.cli import main


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as e:
        code = int(e.code)
    out, err = capsys.readouterr()
    return code, out, err


def test_check_holds_exit_0(capsys, tmp_path) -> None:
    code, out, _ = run(
        [
            "check",
            "--rounds",
            "1",
            "--properties",
            "P1,P2",
            "--max-examples",
            "5",
            "--out",
            str(tmp_path),
            "--json",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert [p["held"] for p in doc["properties"]] == [True, True]
    assert all(p["examples"] >= 5 for p in doc["properties"])


def test_check_violation_exit_1_and_replay(capsys, tmp_path) -> None:
    argv = [
        "check",
        "--rounds",
        "1",
        "--rules",
        "wait-all-sums",
        "--properties",
        "P9",
        "--max-examples",
        "10",
    ]
    code, out, _ = run([*argv, "--out", str(tmp_path), "--json"], capsys)
    assert code == 1
    row = json.loads(out)["properties"][0]
    assert not row["held"] and row["trace"].endswith(".itf.json")
    code, out, _ = run(["replay", row["trace"], "--json"], capsys)
    assert code == 1
    verdict = json.loads(out)
    assert verdict["same_violation"] and not verdict["protocol_changed"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["check", "--threshold", "2"], "Q2 set uniqueness"),
        (["check", "--properties", "P10"], "unknown properties"),
        (["check", "--rules", "nope"], "unknown rule table"),
        (["check", "--max-examples", "0"], "--max-examples"),
        (["replay", "/nonexistent.itf.json"], "cannot read"),
    ],
)
def test_bad_input_exit_2(argv: list[str], needle: str, capsys) -> None:
    code, _, err = run(argv, capsys)
    assert code == 2
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1

"""The `asfl` command: outputs, JSON, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import pytest

from asfl.cli import main


def run(*argv: str) -> subprocess.CompletedProcess:
    """The installed command, run outside the source tree (whose `asfl/` folder would shadow it)."""
    with tempfile.TemporaryDirectory() as elsewhere:
        return subprocess.run(
            [sys.executable, "-m", "asfl.cli", *argv], capture_output=True, text=True, cwd=elsewhere
        )


def test_simulate_prints_rounds_certified_sets_and_acceptances(capsys):
    assert (
        main(
            [
                "simulate",
                "--n-c",
                "8",
                "--t-c",
                "1",
                "--n-a",
                "4",
                "--t-a",
                "1",
                "--rounds",
                "3",
                "--seed",
                "7",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    for r in range(3):
        assert f"round {r}:" in out
    assert out.count("certified  S=") >= 9
    assert "model 3 accepted at step:" in out and out.strip().endswith("events")


def test_simulate_json_is_the_same_run(capsys):
    assert main(["simulate", "--seed", "7", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["finished"] and doc["seed"] == 7 and len(doc["rounds"]) == doc["params"]["R"] == 4
    assert all(len(r["certified"]) >= 3 for r in doc["rounds"])
    assert doc["params"]["T"] == 3


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["simulate", "--n-a", "4", "--t-a", "2"], "Q1 mask privacy"),
        (["simulate", "--threshold", "2"], "Q2 set uniqueness"),
        (["simulate", "--n-c", "8", "--t-c", "2"], "Q5 cluster fill"),
        (["simulate", "--n-c", "eight"], "invalid int value"),
        (["simulate", "--scheduler", "lifo"], "invalid choice"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, needle):
    proc = run(*argv)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr

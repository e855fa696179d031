"""`asfl quorum`: exit 0 when everything holds, 1 when something is refuted, 2 on bad input."""

from __future__ import annotations

import json

import pytest

from asfl.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_concrete_safe_sizes_hold(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "quorum", "--n-c", "4", "--t-c", "0", "--n-a", "4", "--t-a", "1", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["all_hold"] and doc["mode"] == "concrete"
    assert [c["status"] for c in doc["conditions"]] == ["proved"] * 6


def test_concrete_unsafe_sizes_fail(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "quorum", "--n-c", "4", "--t-c", "1", "--n-a", "4", "--t-a", "1")
    assert code == 1
    assert "Q5 cluster fill" in out and "fails" in out


def test_general_mode_proves_the_theorems(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "quorum", "--json", "--min-set", "1", "--no-size-assumption")
    doc = json.loads(out)
    assert [t["status"] for t in doc["theorems"]] == ["proved"] * 4
    # without the size assumption, m = 1 fails Q5 when t_c >= k, reported with its smallest sizes
    q5 = doc["conditions"][4]
    assert q5["status"] == "refuted" and q5["counterexample"]["t_c"] == 1
    assert code == 1


def test_wrong_threshold_is_refuted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "quorum", "--threshold", "n_a - 2*t_a", "--t-c", "0", "--json")
    doc = json.loads(out)
    assert code == 1
    q2 = doc["conditions"][1]
    assert q2["status"] == "refuted" and q2["counterexample"]["n_a"] == 4


def test_safe_threshold_and_fill_hold_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    """With t_c fixed to 0 and m = k, every condition is proved for all other sizes."""
    code, out, _ = _run(capsys, "quorum", "--t-c", "0", "--min-set", "k", "--json")
    assert code == 0, out
    assert json.loads(out)["all_hold"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--threshold", "n_a -* 2"], "--threshold: syntax error (invalid syntax) at position 6"),
        (["--min-set", "k ** 2"], "--min-set: operator Pow is not allowed (use + - * //) at position 3"),
        (["--threshold", "open('x')"], "--threshold: only min(...) and max(...) may be called at position 1"),
        (["--n-c", "2", "--n-a", "4"], "no sizes satisfy the system model"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, "quorum", *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err


def test_no_arguments_proves_the_assumed_model_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "quorum")
    assert code == 0
    assert "size assumption: n_c >= n_a * (t_c + 1)" in " ".join(out.split())

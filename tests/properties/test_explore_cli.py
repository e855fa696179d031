"""`asfl explore`: figures and verdicts, exit 0 / 1 / 2, ITF counterexamples on request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asfl.properties.traces.itf import read_itf, replay

from asfl.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_default_configuration_holds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "explore")
    assert code == 0
    assert "332 distinct states, 752 transitions, depth 14" in out and "P5" in out


def test_broken_q5_reports_p5_with_a_trace(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = _run(
        capsys, "explore", "--m", "2", "--allow-unsafe", "--json", "--trace-dir", str(tmp_path)
    )
    doc = json.loads(out)
    assert code == 1
    p5 = next(v for v in doc["verdicts"] if v["property"] == "P5")
    assert not p5["holds"] and Path(p5["trace"]).exists()
    assert replay(read_itf(p5["trace"])).first_mismatch is None


def test_broken_params_refused_without_allow_unsafe(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "explore", "--m", "2")
    assert code == 2 and "Q5" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--byzantine", "0"], "--byzantine: at most t_a=0"),
        (["--byzantine", "x"], "--byzantine takes comma-separated integers"),
        (["--focus", "9"], "--focus: clients are 0..1"),
        (["--stop-at", "P9"], "--stop-at: unknown safety properties"),
        (["--max-states", "0"], "--max-states must be at least 1"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, "explore", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_explorer_traces_replay_in_a_fresh_process(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The "tiny" domain is registered on import of asfl.properties, not only by the explorer."""
    import subprocess
    import sys

    _run(capsys, "explore", "--m", "2", "--allow-unsafe", "--trace-dir", str(tmp_path))
    code = (
        "from asfl.properties.traces.itf import read_itf, replay; import sys; "
        f"sys.exit(replay(read_itf({str(tmp_path / 'explore-P5.itf.json')!r})).first_mismatch is not None)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path).returncode == 0

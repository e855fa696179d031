"""`asfl cluster up`, `asfl serve` and `asfl replay` refuse bad input with one line and exit 2, before
starting any process (issue 15; the runs themselves are in tests/reference/test_runtime_cluster.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from asfl.cli import main


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["cluster", "up", "--n-a", "3", "--t-a", "1"], "Q2 set uniqueness"),
        (["cluster", "up", "--byzantine", "nope"], "unknown Byzantine strategy 'nope'"),
        (["cluster", "up", "--byzantine", "equivocating@9"], "need 0 <= J < n_a"),
        (["cluster", "up", "--kill", "a1"], "expected PARTY@ROUND"),
        (["cluster", "up", "--kill", "a9@1"], "no such party"),
        (["cluster", "up", "--kill", "a1@1", "--kill", "a2@1"], "exceed t_a=1"),
        (["cluster", "up", "--byzantine", "silent", "--kill", "a1@1"], "exceed t_a=1"),
        (["cluster", "up", "--kill", "c1@1", "--kill", "c2@2"], "exceed t_c=1"),
        (["cluster", "up", "--drop", "1.5"], "--drop < 1"),
        (["serve", "aggregator", "--id", "0", "--config", "/nonexistent/cluster.toml"], "cannot read"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], says: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_cluster_file_and_out_dir(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "cluster.toml"
    bad.write_text("[cluster]\nn_c = 8\nt_c = 1\nn_a = 4\nt_a = 1\nrounds = 'three'\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "client", "--id", "0", "--config", str(bad)])
    assert exit_info.value.code == 2 and "'rounds' must be int" in capsys.readouterr().err
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("")
    with pytest.raises(SystemExit) as exit_info:
        main(["cluster", "up", "--out", str(tmp_path / "used")])
    assert exit_info.value.code == 2 and "is not empty" in capsys.readouterr().err

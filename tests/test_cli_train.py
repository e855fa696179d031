"""`asfl train`: one-line errors with exit 2, and a small run's outputs."""

import json
import subprocess
import sys
import tempfile

import pytest
from asfl.reference.experiment import METHODS

from asfl.cli import main


def _asfl(*args: str) -> subprocess.CompletedProcess:
    # run outside the source tree: its `asfl/` folder would shadow the installed package
    with tempfile.TemporaryDirectory() as elsewhere:
        return subprocess.run(
            [sys.executable, "-m", "asfl.cli", *args], capture_output=True, text=True, cwd=elsewhere
        )


@pytest.mark.parametrize(
    "args",
    [
        ["--dataset", "mnist"],
        ["--epsilon", "0"],
        ["--delta", "1.5"],
        ["--byzantine", "loud"],
        ["--partition", "sorted"],
        ["--n-a", "3", "--t-a", "1"],  # breaks Q4: n_a >= 3 t_a + 1
        ["--record"],
        ["--rounds", "x"],
        ["--a1", "magic"],
        ["--server-step", "sideways"],
        ["--eta", "0"],
        ["--epsilons", "4", "0"],
        ["--seeds", "1", "1"],
        ["--method-eta", "asfl=fast"],
        ["--method-eta", "sgd=2"],
        ["--epsilons", "4", "--record", "--out", "x"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("asfl: error:") and err.count("\n") == 1


def test_small_run_writes_plots_results_and_a_replayable_record(tmp_path):
    out = tmp_path / "out"
    p = _asfl(
        "train", "--rounds", "3", "--n-c", "8", "--quota", "1", "--json", "--out", str(out), "--record",
        "--byzantine", "wrong-share-sums", "--a1", "mac",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    (run,) = res["runs"]
    assert run["method"] == "asfl" and run["finished"]
    assert len(run["curve"]) == 4 and all(0 <= pt["accuracy"] <= 1 for pt in run["curve"])
    assert max(run["epsilon"].values()) <= res["config"]["epsilon"] + 1e-9
    assert run["refused_injections"].get("A1", 0) > 0
    for name in ("accuracy.png", "epsilon.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from asfl.reference.recording import check_replay

    assert check_replay(json.loads((out / "run.json").read_text())) == []


def test_epsilon_grid_writes_the_privacy_utility_plot(tmp_path, capsys):
    """--compare --epsilons --seeds: every method at every (epsilon, seed), the price measured in
    each private run, and the privacy-utility PNG."""
    out = tmp_path / "grid"
    code = main(
        ["train", "--compare", "--epsilons", "4", "16", "--seeds", "0", "1", "--n-c", "8", "--rounds", "2",
         "--epochs", "1", "--quota", "1", "--method-eta", "central-dp=3", "--json", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(c["epsilon"], c["seed"]) for c in doc["grid"]] == [(4.0, 0), (4.0, 1), (16.0, 0), (16.0, 1)]
    assert doc["method_eta"]["central-dp"] == 3 and doc["method_eta"]["asfl"] == doc["config"]["eta"]
    for cell in doc["grid"]:
        assert [r["method"] for r in cell["runs"]] == list(METHODS)
        for r in cell["runs"]:
            assert (r["noise"] is None) == (r["method"] == "fedavg")
            assert r["stragglers"] == [] or r["method"].startswith("asfl")
    assert (out / "privacy_utility.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "results.json").read_text()) == doc

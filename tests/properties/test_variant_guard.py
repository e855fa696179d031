"""User code under guard (properties/audit/variant_guard.py) and in a child process (asfl/sandbox.py):
a rule that raises, returns garbage or hangs is named in one line; a child that exits early or hangs
at import is never a verdict (issue #17)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from asfl.properties.audit.variant_file import make_variant
from asfl.properties.audit.variant_guard import RuleFailure, guard
from asfl.spec import Params
from asfl.spec.errors import ProtocolError

from asfl import sandbox
from asfl.errors import UsageError

PARAMS = Params(n_c=8, t_c=1, n_a=4, t_a=1)


def _rules(fn, name="cluster_ready", timeout=5.0):
    return guard(make_variant("v", "test", {name: fn}), timeout).rules


def test_a_rule_that_raises_is_named_with_its_file_and_line():
    def cluster_ready(params, sums):
        raise ValueError("oops")

    with pytest.raises(RuleFailure) as e:
        _rules(cluster_ready).cluster_ready(PARAMS, {})
    assert "test_variant_guard.py:" in str(e.value)
    assert "rule cluster_ready raised ValueError: oops" in str(e.value)


def test_sys_exit_in_a_rule_is_an_error_not_an_exit():
    def cluster_ready(params, sums):
        raise SystemExit(0)

    with pytest.raises(RuleFailure, match="raised SystemExit"):
        _rules(cluster_ready).cluster_ready(PARAMS, {})


def test_a_wrong_return_type_is_named_with_the_expected_type():
    with pytest.raises(RuleFailure, match=r"returned 'three' \(str\), expected int"):
        _rules(lambda params: "three", "certificate_size").certificate_size(PARAMS)
    assert _rules(lambda params: 2, "certificate_size").certificate_size(PARAMS) == 2
    assert _rules(lambda params, sums: 1, "cluster_ready").cluster_ready(PARAMS, {}) == 1  # truthy int


def test_a_rule_that_hangs_is_stopped():
    def cluster_ready(params, sums):
        time.sleep(30)

    with pytest.raises(RuleFailure, match="did not return within 0.2 s"):
        _rules(cluster_ready, timeout=0.2).cluster_ready(PARAMS, {})


def test_the_spec_refusal_passes_through():
    def cluster_ready(params, sums):
        raise ProtocolError("Q3", "refused")

    with pytest.raises(ProtocolError):
        _rules(cluster_ready).cluster_ready(PARAMS, {})


def test_the_child_relays_output_and_exit_code(capsys):
    def work(channel):
        channel.send("loaded")
        print("verdict table")
        return 1

    assert sandbox.run_isolated(work, "v.py", 5.0) == 1
    assert capsys.readouterr().out == "verdict table\n"


def test_a_child_that_exits_early_is_never_a_verdict():
    def work(channel):
        os._exit(0)

    with pytest.raises(UsageError, match="before any verdict"):
        sandbox.run_isolated(work, "v.py", 5.0)


def test_a_child_that_hangs_at_import_is_stopped(monkeypatch):
    monkeypatch.setattr(sandbox, "GRACE", 0.1)

    def work(channel):
        import signal

        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopped by SIGKILL then
        time.sleep(60)
        return 0

    with pytest.raises(UsageError, match="did not finish importing"):
        sandbox.run_isolated(work, "v.py", 0.1)


def test_a_variant_name_cannot_write_outside_out(tmp_path, monkeypatch, capsys):
    """NAME = "../../escape" names its trace inside --out (safe_io.safe_name); the verdict is the
    child's, relayed: P1 newly violated, exit 1."""
    from asfl import cli

    mutant = Path(__file__).parents[2] / "properties" / "audit" / "mutants" / "mask_degree_T.py"
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    source = mutant.read_text().replace('NAME = "mask-degree-T"', 'NAME = "../../escape"')
    assert "../../escape" in source
    (work / "v.py").write_text(source)
    monkeypatch.chdir(work)
    small = [
        "--n-c",
        "4",
        "--t-c",
        "0",
        "--n-a",
        "4",
        "--t-a",
        "1",
        "--rounds",
        "1",
        "--max-examples",
        "1",
        "--allow-unsafe",
    ]
    assert cli.main(["audit", "v.py", *small, "--out", "o", "--json"]) == 1
    assert "P1" in json.loads(capsys.readouterr().out)["newly_violated"]
    inside = sorted(p.relative_to(work / "o") for p in (work / "o").rglob("*") if p.is_file())
    # every trace the run wrote (P1's, and any other property it violated, at either audited size:
    # the second size's in a size-... folder of its own) is named inside --out
    names = [f.name for f in inside]
    assert "escape-P1.itf.json" in names and "report.md" in names
    assert all(n == "report.md" or n.startswith("escape-P") and n.endswith(".itf.json") for n in names)
    assert all(len(f.parts) == 1 or (len(f.parts) == 2 and f.parts[0].startswith("size-")) for f in inside)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted([*(Path("a", "b", "o", f) for f in inside), Path("a", "b", "v.py")])


@pytest.mark.parametrize(
    "error, code, line",
    [
        (UsageError("bad"), 2, "asfl: error: bad"),
        (FileNotFoundError(2, "No such file", "/x/report.md"), 2, "asfl: error: cannot use /x/report.md"),
        (RuntimeError("ours"), 3, "asfl: internal error: RuntimeError: ours"),
    ],
)
def test_the_child_classifies_its_errors_as_the_cli_does(error, code, line, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("ASFL_LOG_DIR", str(tmp_path))

    def work(channel):
        channel.send("loaded")
        raise error

    assert sandbox.run_isolated(work, "v.py", 5.0) == code
    (err,) = capsys.readouterr().err.strip().splitlines()
    assert err.startswith(line)

"""`asfl audit`: a variant's changes, the mutant catalogue's kill matrix (pinned), one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from asfl.properties.audit.compare import MUTANTS_DIR, audit, catalogue, markdown_report
from asfl.properties.audit.variant_file import load
from asfl.properties.search.focus import focus_of
from asfl.properties.search.runner import judge_trace, search
from asfl.properties.search.runs import SearchSetup
from asfl.properties.traces import itf as traces
from asfl.spec import Params

BASE = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=4)
MATRIX = json.loads(Path(__file__).with_name("kill_matrix.json").read_text())
#: the rows of the variant files (the spec patches' rows carry "breaks": test_spec_audit.py)
VARIANT_ROWS = {name: row for name, row in MATRIX.items() if "breaks" not in row}


def test_catalogue_has_at_least_12_described_mutants_and_the_matrix_covers_them():
    mutants = catalogue()
    assert len(mutants) >= 12
    assert sorted(v.name for v in mutants) == sorted(VARIANT_ROWS)
    assert all(v.description and "\n" not in v.description for v in mutants)


def test_every_mutant_is_killed_and_every_property_kills_one():
    """The matrix of `asfl audit --mutants` (20 runs per pass, the default configuration): every
    property kills a mutant, every mutant is killed. Since the one-search engine (issue 12) the swarm
    alone kills every mutant; the directed search (search/focus.py) adds kills by other properties
    (unchecked-set by P3), which the matrix records; since the work units' draws (scale, #14)
    no-round-cap is killed by the directed search only, and since the default swarm took
    `malformed` and `arbitrary`'s malformed sets (issue 13) unchecked-set too (P3, and P7 through
    outside_set's empty set; the swarm's P6 kill of the earlier draws is gone)."""
    killers = {p for row in VARIANT_ROWS.values() for p in row["killed_by"]}
    assert killers == {"P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"}
    assert [name for name, row in MATRIX.items() if not row["killed_by"]] == []
    directed_only = {
        name for name, row in VARIANT_ROWS.items() if set(row["killed_by"]) <= set(row["directed"])
    }
    # no-round-cap since the work-unit engine's draws (merge of scale), unchecked-set since issue 13's
    assert directed_only == {"no-round-cap", "unchecked-set"}
    with_directed = {name for name, row in VARIANT_ROWS.items() if row["directed"]}
    assert with_directed == {"no-round-cap", "unchecked-set"}


def test_equivalent_mutants_are_shipped_apart_with_a_reason():
    """Mutants no property can kill in this model live in mutants/equivalent, not in the catalogue."""
    equivalent = sorted((MUTANTS_DIR / "equivalent").glob("*.py"))
    names = {load(p).name for p in equivalent}
    assert names == {"drop-late", "no-reshuffle", "unchecked-coordinator"}
    assert not names & {v.name for v in catalogue()}
    assert all("Equivalent" in p.read_text() for p in equivalent)


@pytest.mark.parametrize("mutant", catalogue(), ids=lambda v: v.name)
def test_pinned_killer_kills_the_mutant(mutant, tmp_path):
    """The first property of the pinned row kills the mutant again (same ci profile, budget and
    search: the directed one when only it found the violation; a search's runs depend on its
    passes, not on which properties it judges, so judging the property with P9, which brings the
    silent pass, draws the runs of the matrix's), and its trace, written and read back, is judged a
    violation again."""
    row = MATRIX[mutant.name]
    prop = row["killed_by"][0]
    setup = SearchSetup(mutant.apply(BASE), mutant.rules)
    if prop in row["directed"]:
        setup = SearchSetup(mutant.apply(BASE), mutant.rules, adversaries=focus_of(mutant.rules))
    outcome = search(setup, (prop, "P9"), max_examples=20, until=(prop,))[prop]
    assert not outcome.held, f"{mutant.name} survived {prop}"
    traces.register_rules(mutant.rules)
    again = traces.read_itf(traces.write_itf(tmp_path / f"{prop}.itf.json", outcome.trace))
    assert judge_trace(again) is not None


def _variant(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "variant.py"
    path.write_text(textwrap.dedent(text))
    return path


def test_audit_reports_what_a_variant_breaks(tmp_path):
    path = _variant(
        tmp_path,
        """
        NAME = "wait-all"
        DESCRIPTION = "the coordinator waits for every aggregator's share-sum"

        def all_sums(params, sums):
            return len(sums) >= params.n_a

        RULES = {"cluster_ready": all_sums}
        """,
    )
    result = audit(load(path), BASE, max_examples=5, out_dir=tmp_path)
    assert result.breaks and "P5" in result.newly_violated
    assert result.trace_paths["P5"].exists()
    report = markdown_report(result, {"P5": "lane"})
    assert "properties newly violated: " in report and "P5" in report and "```\nlane\n```" in report
    assert result.to_json()["properties"]["P5"]["variant"] == "violated"


def test_audit_of_a_harmless_variant_breaks_nothing(tmp_path):
    path = _variant(
        tmp_path,
        """
        from asfl.spec.rules import standard_relay_cluster

        NAME = "same"
        DESCRIPTION = "the standard relay rule, under another name"
        RULES = {"relay_cluster": lambda params: standard_relay_cluster(params)}
        """,
    )
    result = audit(load(path), BASE, max_examples=5)
    assert not result.breaks and result.newly_refuted == []
    # the rule it replaces has a focus, so every property the swarm held was searched again,
    # directed by the selective coordinator, and the directed search raised no false alarm either
    directed = [p for p, o in result.changed.properties.items() if o.extra.get("directed") == ["coordinator"]]
    assert directed == ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"]


def _cli(*argv: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as elsewhere:
        return subprocess.run(
            [sys.executable, "-m", "asfl.cli", "audit", *argv], capture_output=True, text=True, cwd=elsewhere
        )


def test_cli_bad_variant_is_one_line_with_file_and_line(tmp_path):
    bad = _variant(tmp_path, "NAME = 'x'\nDESCRIPTION = 'y'\nRULES = {'fix_set': nope}\n")
    proc = _cli(str(bad))
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert f"{bad}:3: NameError" in line
    proc = _cli()
    assert proc.returncode == 2 and "give a variant file" in proc.stderr


SAME_SCHEDULE = [("F2-limit-R6", True), ("F4-paced-R6", False), ("F4-paced-one-slack", False)]


@pytest.mark.parametrize(("name", "shared"), SAME_SCHEDULE)
def test_a_violation_the_baseline_shares_on_the_same_schedule_is_not_new(name, shared):
    """`same_schedule_baseline`: a counterexample replayed on the baseline. F2's R=6 schedule starves
    the standard rule itself, so P6 would not be newly violated; F4's two paced schedules do not
    starve it, so P6 is."""
    from asfl.properties.audit.compare import AuditResult, Side, baseline_verdict, same_schedule_baseline
    from asfl.properties.audit.variant_file import make_variant
    from asfl.properties.search.runner import PropertyResult

    trace = traces.read_itf(Path(__file__).parent / "traces" / f"{name}.itf.json")
    base = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=trace.params.R)
    held = Side({}, {}, {"P6": PropertyResult("P6", True, 15, 1000, 1.0)}, {})
    changed = Side({}, {}, {"P6": PropertyResult("P6", False, 15, 1000, 1.0, judge_trace(trace), trace)}, {})
    baseline = same_schedule_baseline(held, changed, base)
    assert held.properties["P6"].held  # the cached side is not mutated
    result = AuditResult(make_variant(trace.rules, "F4"), base, baseline, changed)
    assert result.newly_violated == ([] if shared else ["P6"])
    assert baseline_verdict(baseline.properties["P6"]) == ("violated (same schedule)" if shared else "held")


def test_a_variant_is_audited_at_two_sizes_and_the_second_has_m_2(tmp_path):
    """Issue 13, item 5: at the default size m = 1, so a mistake in the |S| >= m check shows there
    only through the empty set; the audit also judges the variant at n_c=12 (clusters of 3, m = 2),
    where a non-empty set smaller than m exists, and unchecked-set newly violates P7 there too."""
    proc = _cli(
        str(MUTANTS_DIR / "unchecked_set.py"), "--max-examples", "6", "--json", "--out", str(tmp_path)
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    first, second = doc["sizes"]
    assert (first["params"]["n_c"], first["params"]["m"]) == (8, 1)
    assert (second["params"]["n_c"], second["params"]["m"]) == (12, 2)
    assert "P7" in second["newly_violated"]
    assert set(doc["newly_violated"]) == set(first["newly_violated"]) | set(second["newly_violated"])
    assert (tmp_path / "size-n_c12-t_c1-n_a4-t_a1" / "unchecked-set-P7.itf.json").is_file()
    assert (tmp_path / "report.md").read_text().count("# Audit of `unchecked-set`") == 2
    from argparse import Namespace

    from asfl.commands.audit_spec import audited_configs

    given = Namespace(threshold=None, m=None, quota=None, allow_unsafe=False, one_size=True)
    assert [c["n_c"] for c in audited_configs(given, BASE)] == [8]  # --one-size
    given.one_size = False
    assert [c["n_c"] for c in audited_configs(given, BASE)] == [8, 12]
    at_12 = Params(n_c=12, t_c=1, n_a=4, t_a=1, R=4)
    assert [c["n_c"] for c in audited_configs(given, at_12)] == [12]  # the given size is the second


def test_a_replaced_rule_no_run_consulted_is_vacuous():
    """A held verdict says nothing of a rule no run consulted: the audit names it (issue 13)."""
    from dataclasses import replace

    from asfl.properties.audit.compare import AuditResult, Side
    from asfl.properties.judge.coverage import Coverage

    variant = load(MUTANTS_DIR / "unchecked_set.py")
    (name,) = variant.rules.replaced()
    side = Side(quorum={}, conditions={}, properties={}, explored={}, coverage=Coverage())
    side.coverage.rules.update({"fix_set:set": 3})
    result = AuditResult(variant, BASE, side, side)
    assert result.vacuous_rules == [name]
    consulted = replace(side, coverage=Coverage())
    consulted.coverage.rules.update({f"{name}:refused": 1})
    assert AuditResult(variant, BASE, side, consulted).vacuous_rules == []
    assert AuditResult(variant, BASE, side, replace(side, coverage=None)).vacuous_rules == []

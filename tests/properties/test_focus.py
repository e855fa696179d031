"""The directed search's table (search/focus.py): rules to the adversaries that attack them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from asfl.properties.adversaries.library import ADVERSARIES
from asfl.properties.audit.compare import BASELINE, MUTANTS_DIR, verdict
from asfl.properties.audit.variant_file import load
from asfl.properties.search.focus import RULE_FOCUS, focus_of
from asfl.properties.search.runner import PropertyResult
from asfl.spec.rules import STANDARD, Rules


def _mutant(name: str):
    return load(Path(MUTANTS_DIR) / f"{name}.py")


def test_every_focus_names_a_rule_of_the_table_and_known_adversaries():
    assert set(RULE_FOCUS) <= set(Rules.names())
    for rule, adversaries in RULE_FOCUS.items():
        assert adversaries, rule
        assert set(adversaries) <= set(ADVERSARIES) - {"silent"}, rule


def test_the_baseline_has_no_focus_and_a_variant_has_its_rules():
    assert focus_of(BASELINE.rules) == ()
    assert focus_of(_mutant("endorse_twice").rules) == RULE_FOCUS["endorse_problem"]
    assert focus_of(_mutant("equivalent/no_reshuffle").rules) == ("censoring",)
    # rules every run exercises (the pads) direct nothing
    assert focus_of(_mutant("pad_reuse").rules) == ()


def test_a_table_replacing_two_rules_gets_both_focuses_once():
    table = dataclasses.replace(
        STANDARD,
        name="two",
        model_problem=lambda ctx, msg: None,
        certificate_size=lambda params: 1,
    )
    assert table.replaced() == ["certificate_size", "model_problem"]
    assert focus_of(table) == ("self_certified", "forged", "malformed")


def test_a_verdict_names_the_directed_search_that_found_it():
    assert verdict(PropertyResult("P3", True, 15, 100, 1.0, exercised=3)) == "held"
    # held on runs none of which reached the state P3 speaks about (judge/coverage.vacuous)
    assert verdict(PropertyResult("P3", True, 15, 100, 1.0, exercised=0)) == "held (vacuous)"
    assert verdict(PropertyResult("P3", False, 15, 100, 1.0)) == "VIOLATED"
    directed = PropertyResult(
        "P3", False, 15, 100, 1.0, extra={"directed": ["serial_equivocation", "outside_set"]}
    )
    assert verdict(directed) == "VIOLATED (directed: serial_equivocation, outside_set)"

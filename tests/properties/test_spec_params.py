"""The spec's parameters judged by the quorum theory (properties/theory/spec_params.py, issue 13):
the installed spec agrees on every case of the scope, and each clause catches a change that
`asfl check` at one accepted configuration cannot see."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asfl.spec
import asfl.spec.params as spec_params
from asfl.properties.theory import spec_params as judge
from asfl.spec.params import Condition


def test_the_installed_spec_agrees_with_the_theory() -> None:
    verdict = judge.judge_spec_params()
    assert verdict.agrees, [str(d) for d in verdict.disagreements]
    # the scope is what the docstring says: every T and m at every size of n_a <= MAX_N_A
    assert verdict.cases["refusal"] > 20_000 and verdict.cases["quota"] > 5_000
    assert verdict.cases["domain"] == len(judge.DOMAIN)


def test_a_weakened_q1_is_refused_where_the_theory_says(monkeypatch) -> None:
    """`T > t_a` weakened to `T >= t_a` in the spec: every configuration the check runs is accepted
    alike, so no run sees it; the refusal clause names Q1 where the spec names another."""
    original = spec_params.quorum_conditions

    def weakened(n_c, t_c, n_a, t_a, T, m):
        conds = original(n_c, t_c, n_a, t_a, T, m)
        return [
            Condition(c.name, c.statement, T >= t_a, c.numbers) if c.name.startswith("Q1") else c
            for c in conds
        ]

    monkeypatch.setattr(spec_params, "quorum_conditions", weakened)
    verdict = judge.judge_spec_params()
    assert not verdict.agrees
    first = verdict.disagreements[0]
    assert first.clause == "refusal" and "Q1 mask privacy" in first.expected and "Q1" not in first.got
    assert {d.clause for d in verdict.disagreements} == {"refusal"}


def test_numbers_that_are_not_the_values_are_a_disagreement(monkeypatch) -> None:
    """A refusal names the condition and the numbers (the standard): Q2's numbers written with
    `2 - T` for `2 * T` are refused by the numbers clause, and only by it."""
    original = spec_params.quorum_conditions

    def misprinted(n_c, t_c, n_a, t_a, T, m):
        conds = original(n_c, t_c, n_a, t_a, T, m)
        wrong = f"2*T={2 - T}, n_a+t_a={n_a + t_a}"
        return [c._replace(numbers=wrong) if c.name.startswith("Q2") else c for c in conds]

    monkeypatch.setattr(spec_params, "quorum_conditions", misprinted)
    verdict = judge.judge_spec_params()
    assert {d.clause for d in verdict.disagreements} == {"numbers"}
    assert "where 2*T is" in verdict.disagreements[0].got
    assert judge.numbers_problem("T=3, n_a-t_a=3", {"T": 3, "n_a": 4, "t_a": 1}) is None
    assert (
        judge.numbers_problem("T=3, n_a-t_a=4", {"T": 3, "n_a": 4, "t_a": 1})
        == "n_a-t_a=4 where n_a-t_a is 3"
    )
    assert judge.numbers_problem("T is 3", {"T": 3}) is not None


def test_one_round_of_slack_breaks_the_default_quota(monkeypatch) -> None:
    """H1's slack cut to one round (the quota before finding F5): the quota clause names Q."""
    monkeypatch.setattr(spec_params, "QUOTA_SLACK", 1)
    verdict = judge.judge_spec_params()
    clauses = {d.clause for d in verdict.disagreements}
    assert clauses == {"quota"}, [str(d) for d in verdict.disagreements]
    assert any("Q = " in d.expected for d in verdict.disagreements)


def test_asfl_quorum_judges_the_spec_given_with_spec(tmp_path) -> None:
    """`asfl --spec DIR quorum` judges DIR's parameters: a range edge refused (R >= 2 for R >= 1)
    is a domain disagreement, exit 1, with the case in the JSON."""
    spec = tmp_path / "spec"
    shutil.copytree(Path(asfl.spec.__path__[0]), spec, ignore=shutil.ignore_patterns("__pycache__"))
    source = (spec / "params.py").read_text()
    assert source.count("self.R < 1") == 1
    (spec / "params.py").write_text(source.replace("self.R < 1", "self.R < 2"))
    cmd = [sys.executable, "-m", "asfl.cli", "--spec", str(spec), "quorum", "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONSAFEPATH": "1"})
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert all(c["status"] == "proved" for c in doc["conditions"])  # the theory itself holds
    judged = doc["spec_params"]
    assert judged["agrees"] is False
    assert any(d["clause"] == "domain" and "R=1" in d["params"] for d in judged["first"])


def test_the_primality_test_agrees_with_trial_division() -> None:
    def trial(n: int) -> bool:
        return n > 1 and all(n % k for k in range(2, int(n**0.5) + 1))

    assert all(judge.is_prime(n) == trial(n) for n in range(20_000))
    assert judge.is_prime(2**31 - 1) and judge.is_prime(2**61 - 1)
    assert not judge.is_prime(2**31 + 1) and not judge.is_prime(2**32 - 1)


def test_a_default_modulus_that_is_no_prime_is_a_disagreement() -> None:
    """F_q needs a prime q: a default of 2^31 + 1 (= 3 * 715827883) is named by the defaults clause."""
    verdict = judge.SpecVerdict()
    judge.judge_defaults(verdict, functools.partial(spec_params.Params, q=2**31 + 1))
    assert [d.got for d in verdict.disagreements] == [f"gave q = {2**31 + 1}"]
    fine = judge.SpecVerdict()
    judge.judge_defaults(fine, spec_params.Params)
    assert fine.agrees


def test_a_prime_modulus_too_small_for_the_encoding_is_a_disagreement() -> None:
    """q = 61 is a prime field, but C * scale = 65536 does not fit its headroom (q - 1) // 2 // n_c."""
    verdict = judge.SpecVerdict()
    judge.judge_defaults(verdict, functools.partial(spec_params.Params, q=61))
    assert [d.got for d in verdict.disagreements] == ["gave q = 61, headroom 2"]


def test_noise_calibrated_with_sigma_not_squared_is_a_disagreement(monkeypatch) -> None:
    """`sigma**2` made `sigma**1` in the noise rule: at sigma = 1 (the check's) it is the same,
    so only a sigma other than 1 shows it; the calibration clause judges several."""
    from asfl.spec import rules

    unsquared = dataclasses.replace(
        rules.STANDARD, noise_variance=lambda params: params.sigma / max(params.m, 1)
    )
    monkeypatch.setattr(rules, "STANDARD", unsquared)
    verdict = judge.SpecVerdict()
    judge.judge_calibration(verdict, spec_params.Params)
    assert not verdict.agrees and {d.clause for d in verdict.disagreements} == {"calibration"}
    assert all("z=1.0, clip=1.0" not in d.params for d in verdict.disagreements)


def test_the_assignment_must_partition_in_slices_at_every_size(monkeypatch) -> None:
    """Section 3's slices, judged where n_a does not divide n_c (the check's sizes all divide), and a
    shuffle guard that refuses n_c past 42 (`2**40` made `2 + 40`) at the large sizes."""
    from asfl.spec import assignment

    def round_robin(n_c, n_a, genesis, r, rounds):  # a partition, but not in the slices' sizes
        return tuple(frozenset(range(i, n_c, n_a)) for i in range(n_a))

    monkeypatch.setattr(assignment, "_clusters", round_robin)
    verdict = judge.SpecVerdict()
    judge.judge_assignment(verdict, spec_params.Params)
    assert not verdict.agrees and all(d.got.startswith("gave sizes") for d in verdict.disagreements)
    monkeypatch.undo()

    original = assignment.compute_shuffled_index

    def guarded(index, index_count, seed, rounds=90):
        if index_count > 2 + 40:
            raise ValueError("index_count too large")
        return original(index, index_count, seed, rounds)

    monkeypatch.setattr(assignment, "compute_shuffled_index", guarded)
    assignment._clusters.cache_clear()
    verdict = judge.SpecVerdict()
    judge.judge_assignment(verdict, spec_params.Params)
    assignment._clusters.cache_clear()
    assert [d.got for d in verdict.disagreements] == ["raised ValueError: index_count too large"] * 3

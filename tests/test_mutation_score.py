"""benchmarks/mutation_score.py draws the same sample on every run (issue 13: a score is compared
before and after a change on one sample) and judges mutants by name (--only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "mutation_score.py"


def _list(session: Path, *args: str) -> list[str]:
    cmd = [sys.executable, str(SCRIPT), "--session", str(session), "--modules", "inclusion", "--list", *args]
    done = subprocess.run(
        cmd, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONSAFEPATH": "1"}
    )
    return done.stdout.splitlines()


def test_the_seeded_sample_is_the_same_on_every_run(tmp_path):
    """cosmic-ray hands pending mutants out in random order (ORDER BY random()): the script sorts
    them before drawing, so --seed draws one sample, in a session and in a fresh one."""
    first = _list(tmp_path / "a.sqlite", "--sample", "8", "--seed", "0")
    assert len(first) == 8 and all(name.startswith("inclusion.") for name in first)
    assert _list(tmp_path / "a.sqlite", "--sample", "8", "--seed", "0") == first
    assert _list(tmp_path / "b.sqlite", "--sample", "8", "--seed", "0") == first
    assert _list(tmp_path / "a.sqlite", "--sample", "8", "--seed", "1") != first


def test_only_judges_the_mutants_named(tmp_path):
    every = _list(tmp_path / "s.sqlite")
    named = tmp_path / "names.txt"
    named.write_text(f"# two of them\n{every[3]} # a comment\n\n{every[0]}\n")
    assert sorted(_list(tmp_path / "s.sqlite", "--only", str(named))) == sorted([every[0], every[3]])


def _script(monkeypatch):
    """benchmarks/mutation_score.py as a module (registered while the test runs: its dataclasses
    look their module up)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mutation_score", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "mutation_score", module)
    spec.loader.exec_module(module)
    return module


def _pristine_files() -> tuple[tuple[str, str], ...]:
    """The installed spec's files, name -> source, as a MutantTask carries them."""
    import asfl.spec

    spec = Path(asfl.spec.__path__[0])
    return tuple(sorted((f.name, f.read_text()) for f in spec.glob("*.py")))


def test_a_mutant_that_survives_q_1_is_judged_again_where_q_is_2_and_dies_by_p6(monkeypatch):
    """Issue 13, item 5: `_send_contribution` counting a release with `^` instead of `+` is
    invisible at the default Q = 1 (0 ^ 1 == 0 + 1); the later configuration `--rounds 6` (Q = 2)
    judges the survivor again, and P6 kills it there (the count falls back to 0 after two releases)."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    monkeypatch.setenv("PYTHONSAFEPATH", "1")
    ms = _script(monkeypatch)
    files = _pristine_files()
    operator = "core/ReplaceBinaryOperator_Add_BitXor"
    source = dict(files)["client.py"]
    mutated = mutate_code(source, get_operator(operator)(), 0)
    assert "released=st.released ^ (1 if with_data else 0)" in mutated  # occurrence 0 is the count

    def task(also):
        return ms.MutantTask(files, "client.py", operator, (), 0, 3, 300.0, also)

    assert ms.judge_task(task(()))["verdict"] == "survived"
    verdict = ms.judge_task(task((("--rounds", "6"),)))
    assert verdict["verdict"] == "killed" and "P6" in verdict["by"] and verdict["at"] == "--rounds 6"


def test_a_weakened_quorum_condition_survives_the_check_and_dies_by_the_quorum_theory(monkeypatch):
    """Q1 weakened to `T >= t_a` in spec/params.py: the check's one accepted configuration cannot
    see it, and `asfl quorum`, the stage after the default check, judges the spec's parameters."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    monkeypatch.setenv("PYTHONSAFEPATH", "1")
    ms = _script(monkeypatch)
    files = _pristine_files()
    operator = "core/ReplaceComparisonOperator_Gt_GtE"
    mutated = mutate_code(dict(files)["params.py"], get_operator(operator)(), 0)
    assert '"T > t_a", T >= t_a,' in mutated  # occurrence 0 is Q1

    def task(beyond_check):
        return ms.MutantTask(
            files, "params.py", operator, (), 0, 3, 300.0, (), theory_and_explorer=beyond_check
        )

    assert ms.judge_task(task(False))["verdict"] == "survived"
    verdict = ms.judge_task(task(True))
    assert (
        verdict["verdict"] == "killed" and verdict["by"] == ["params refusal"] and verdict["at"] == "quorum"
    )


def test_a_world_that_forgets_a_crash_is_refused_by_the_system_model(monkeypatch):
    """`crashed | {c}` -> `crashed & {c}` in world.step: the crash is lost, so the adversary has no
    crash power left and every property held. The search's judged step (judge/model.py) refuses
    the world on its first crash, naming section 1's rule: the check exits 2, an error verdict."""
    monkeypatch.setenv("PYTHONSAFEPATH", "1")
    ms = _script(monkeypatch)
    task = ms.MutantTask(
        _pristine_files(), "world.py", "core/ReplaceBinaryOperator_BitOr_BitAnd", (), 11, 20, 300.0, ()
    )
    verdict = ms.judge_task(task)
    assert verdict["verdict"] == "error" and "system model (M1 crash-stop)" in verdict["by"][0]


def test_a_check_the_kernel_killed_or_out_of_memory_is_no_kill(monkeypatch):
    """A runaway mutant once filled 12 GB and the OOM killer ended its check (exit -9), which the
    score had counted as a kill ("the spec raised"). A signal's death, or a MemoryError under the
    per-check cap outside the spec's own code, is no verdict: timed out, as a check past --timeout
    is; a real raise stays an error, and so does a MemoryError the check names in a transition of
    the spec (since 2026-12-07)."""
    ms = _script(monkeypatch)

    def done(code: int, stderr: str) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess([], code, "", stderr)

    assert ms._verdict(done(-9, ""), 257.0)["verdict"] == "timed out"
    oom = done(3, "asfl: internal error: MemoryError (traceback in /tmp/x.log; please report it)")
    assert ms._verdict(oom, 40.0)["verdict"] == "timed out"
    raised = done(2, "asfl: error: the spec raised TypeError in aggregator.py:153 (on_share_sum)")
    assert ms._verdict(raised, 0.5)["verdict"] == "error"
    # a transition of the mutant that allocates past the cap, named by the check: the spec's step
    # never returns, which is the mutant's doing (the pristine check holds under the cap)
    spec_oom = done(2, "asfl: error: the spec raised MemoryError in aggregator.py:330 (_advance): no memory")
    assert ms._verdict(spec_oom, 61.0) == {"verdict": "error", "seconds": 61.0, "by": [spec_oom.stderr]}
    assert ms._verdict(done(1, ""), 3.0)["verdict"] == "killed"


def test_the_memory_cap_ends_a_process_that_allocates_without_end(monkeypatch):
    """The cap (RLIMIT_AS, `--memory`) makes an allocation past it fail inside the check's own
    process, so two runaway mutants cannot exhaust the machine."""
    ms = _script(monkeypatch)
    grow = "x = []\nwhile True:\n    x.append(bytearray(2**26))\n"
    capped = subprocess.run(
        [sys.executable, "-c", grow],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=ms._memory_cap(0.5),
    )
    assert capped.returncode == 1 and "MemoryError" in capped.stderr


def test_a_property_the_pristine_check_exercised_and_the_mutants_left_vacuous_is_named(monkeypatch):
    """The vacuous verdict: only a property the pristine spec's check exercised at that
    configuration, and that the mutant's check reports vacuous, counts; a property vacuous in both
    (or one that failed, which is a kill of its own) does not."""
    ms = _script(monkeypatch)
    doc = {
        "properties": [
            {"property": "P1", "held": True, "vacuous": True},
            {"property": "P2", "held": True, "vacuous": False},
            {"property": "P8", "held": True, "vacuous": True},
        ]
    }
    assert ms._now_vacuous(json.dumps(doc), ("P1", "P2")) == ["P1"]
    assert ms._now_vacuous(json.dumps(doc), ()) == []
    assert ms._now_vacuous("not json", ("P1",)) == []

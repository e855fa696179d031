"""The spec-diff audit (`asfl audit --base REV [PATH]`, issue 13): the diff by function, each side in
its own interpreter on its own spec folder, the judge's params.py the baseline's, exit codes 0/1/2,
traces that replay with `asfl --spec`, and the catalogue's patches of spec/. Small budgets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asfl.spec
import pytest
from asfl.properties.audit.spec_diff import changed_functions, run_side, side_folder
from asfl.properties.audit.spec_mutants import SPEC_MUTANTS_DIR, load_patch, spec_catalogue
from asfl.properties.search.focus import focus_of_functions
from asfl.spec import STANDARD

SPEC = Path(asfl.spec.__path__[0])
MATRIX = json.loads(Path(__file__).with_name("kill_matrix.json").read_text())


def _asfl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    # PYTHONSAFEPATH: `-m` would put the working directory first on the path, and in a checkout
    # its asfl/ folder (the CLI alone) shadows the installed package (CI installs it, not editable)
    env = {**os.environ, "PYTHONSAFEPATH": "1"}
    return subprocess.run(
        [sys.executable, "-m", "asfl.cli", *args], capture_output=True, text=True, cwd=cwd, env=env
    )


def _copy(tmp: Path, name: str = "spec") -> Path:
    target = tmp / name
    shutil.copytree(SPEC, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _repo_with_patch(tmp_path: Path, mutant_name: str) -> Path:
    """A git checkout whose last commit applies the catalogue patch `mutant_name` to spec/."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _copy(repo)
    _git(repo, "init", "-q")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "add", "spec")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "spec")
    mutant = next(m for m in spec_catalogue() if m.name == mutant_name)
    _git(repo, "apply", str(mutant.path))
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", mutant.description)
    return repo


#: the lines F6's fix (deviation 15) added to the spec: without them it is the spec from before it
BEFORE_F6 = {
    "rules.py": [
        "    i3_noise_carry: Callable[[bool, bool, bool], str] = inclusion.i3_noise_carry\n",
        '    "i3_noise_carry": ("may_release", "holds_its_model", "trains_for_it"),\n',
    ],
    "client.py": [
        "    if not pending.with_data:\n"
        "        # noise only: a take-back may since have let I2 release data in its place (finding F6)\n"
        "        pending = _noise_carried(ctx, st, pending, carry)\n"
        "        if pending is None:\n"
        "            return st, []  # the training for `carry` contributes there, with data\n",
    ],
}


def test_a_base_from_before_a_rule_of_the_table_judges_the_changed_schedule(tmp_path):
    """The judge runs against the baseline's spec/, which may predate a rule of today's table: the
    tables that restore a rule as first written (`broken_variants`, F6's) are built without it
    there, instead of breaking the baseline side when it reads the changed side's trace to judge
    the same schedule (it did: `Rules.__init__() got an unexpected keyword argument`)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    base = _copy(repo)
    for name, lines in BEFORE_F6.items():
        text = (base / name).read_text()
        for line in lines:
            assert line in text, (name, line)
            text = text.replace(line, "")
        (base / name).write_text(text)
    _git(repo, "init", "-q")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "add", "spec")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "spec before F6")
    changed = _copy(tmp_path, "changed")
    mutant = next(m for m in spec_catalogue() if m.name == "carry-counted-as-data")
    subprocess.run(["git", "apply", "-p2", "--directory=changed", str(mutant.path)], cwd=tmp_path, check=True)
    done = _asfl(
        "audit", "--base", "HEAD", str(changed), "--one-size", "--max-examples", "8", "--json", cwd=repo
    )
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["newly_violated"] == ["P6"]
    assert doc["sizes"][0]["properties"]["P6"]["baseline_on_changed_trace"] is None  # judged, held


def test_changed_functions_names_modified_added_removed_and_module_code(tmp_path):
    changed = _copy(tmp_path)
    client = changed / "client.py"
    text = client.read_text()
    text = text.replace("released=st.released + (1 if with_data else 0),", "released=st.released,")
    text = text.replace("def on_model(", "def on_model_renamed(")
    text += "\n\nEXTRA = 1\n"
    client.write_text(text)
    found = {(c.name, c.how) for c in changed_functions(SPEC, changed)}
    assert found == {
        ("client._send_contribution", "modified"),
        ("client.on_model", "removed"),
        ("client.on_model_renamed", "added"),
        ("client.<module>", "modified"),
    }


def test_a_comment_is_no_change_and_the_focus_follows_the_functions(tmp_path):
    changed = _copy(tmp_path)
    (changed / "aggregator.py").write_text((changed / "aggregator.py").read_text() + "\n# a comment only\n")
    assert changed_functions(SPEC, changed) == []
    assert "malformed" in focus_of_functions(["client.on_certify"], STANDARD)
    # a rule's own function is focused through the rule table (RULE_FOCUS)
    assert focus_of_functions(["checks.standard_endorse_problem"], STANDARD) == (
        "serial_equivocation",
        "outside_set",
    )


def test_base_head_1_on_a_client_commit_reports_functions_violation_and_a_trace_that_replays(tmp_path):
    """Done means (issue 13): the commit changes spec/client.py; the audit names the changed
    functions and the newly violated property, with a shrunk trace that replays on the changed spec
    (and not on the baseline's)."""
    repo = _repo_with_patch(tmp_path, "release-counted-on-certify")
    out = tmp_path / "out"
    done = _asfl(
        "audit",
        "--base",
        "HEAD~1",
        "--one-size",
        "--max-examples",
        "10",
        "--json",
        "--out",
        str(out),
        cwd=repo,
    )
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert {c["name"] for c in doc["changed_functions"]} == {"client._send_contribution", "client.on_certify"}
    assert "P6" in doc["newly_violated"]
    row = doc["sizes"][0]["properties"]["P6"]
    assert row["changed"] == "violated" and row["baseline"] == "held" and row["replays"]
    assert doc["sizes"][0]["vacuous"] == []
    replay = _asfl("--spec", doc["spec_copy"], "replay", row["trace"])
    assert replay.returncode == 1 and "reproduced" in replay.stdout
    on_baseline = _asfl("replay", row["trace"])
    assert on_baseline.returncode == 0 and "protocol changed" in on_baseline.stdout
    assert (out / "report.md").read_text().count("client.on_certify") == 1


def test_a_refactor_breaks_nothing_and_an_unused_function_is_vacuous(tmp_path):
    changed = _copy(tmp_path)
    inclusion = changed / "inclusion.py"
    inclusion.write_text(inclusion.read_text() + "\n\ndef never_called(x: int) -> int:\n    return x + 1\n")
    client = changed / "client.py"
    client.write_text(
        client.read_text().replace(
            "    if st.c in msg.members:\n        return st, []\n",
            "    included = st.c in msg.members\n    if included:\n        return st, []\n",
        )
    )
    done = _asfl("audit", str(changed), "--one-size", "--max-examples", "5", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["newly_violated"] == []
    assert doc["sizes"][0]["vacuous"] == ["inclusion.never_called"]


def test_a_spec_that_does_not_import_or_always_raises_is_one_line_exit_2(tmp_path):
    broken = _copy(tmp_path, "broken")
    (broken / "client.py").write_text((broken / "client.py").read_text() + "\ndef oops(:\n")
    done = _asfl("audit", str(broken), "--one-size", "--max-examples", "3")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "does not parse" in done.stderr and "client.py" in done.stderr
    raising = _copy(tmp_path, "raising")
    agg = raising / "aggregator.py"
    agg.write_text(
        agg.read_text().replace(
            '    """Collect CONTRIB for cluster j;', '    1 / 0\n    """Collect CONTRIB for cluster j;'
        )
    )
    done = _asfl("audit", str(raising), "--one-size", "--max-examples", "3")
    assert done.returncode == 2
    assert (
        done.stderr.count("\n") == 1 and "ZeroDivisionError" in done.stderr and "aggregator.py" in done.stderr
    )
    nowhere = _asfl("--spec", str(tmp_path / "nothing"), "check")
    assert nowhere.returncode == 2 and "not a spec folder" in nowhere.stderr


def test_an_unknown_revision_is_one_line_exit_2(tmp_path):
    repo = _repo_with_patch(tmp_path, "noise-per-client")
    done = _asfl("audit", "--base", "no-such-rev", "--one-size", cwd=repo)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--base no-such-rev" in done.stderr


def test_the_judge_is_the_baselines_params(tmp_path):
    """A changed params.py is not run: both sides get the baseline's (the judge's thresholds)."""
    changed = _copy(tmp_path)
    params = changed / "params.py"
    params.write_text(params.read_text() + "\n# the thresholds of another protocol would go here\nX = 1\n")
    side = side_folder(changed, SPEC, tmp_path / "side")
    assert (side / "params.py").read_text() == (SPEC / "params.py").read_text()


# -- the catalogue's patches of spec/ ----------------------------------------------------------------
def test_the_catalogue_has_15_spec_patches_with_headers_and_the_matrix_covers_them():
    patches = spec_catalogue()
    assert len(patches) >= 15
    assert len({p.name for p in patches}) == len(patches)
    for p in patches:
        assert p.description and p.breaks in {f"P{k}" for k in range(1, 10)}
        assert load_patch(p.path).name == p.name
        assert MATRIX[p.name]["breaks"] == p.breaks
    assert {f.name for f in SPEC_MUTANTS_DIR.iterdir() if f.suffix == ".patch"} == {
        p.path.name for p in patches
    }


def test_every_spec_patch_applies_and_edits_code_outside_the_rule_table(tmp_path):
    rule_functions = {
        f"{getattr(STANDARD, n).__module__.rsplit('.', 1)[-1]}.{getattr(STANDARD, n).__name__}"
        for n in STANDARD.names()
    }
    for k, mutant in enumerate(spec_catalogue()):
        changed = mutant.apply(SPEC, tmp_path / str(k))
        names = {c.name for c in changed_functions(SPEC, changed)}
        assert names and not names & rule_functions, (mutant.name, names)


@pytest.mark.parametrize("mutant", spec_catalogue(), ids=lambda m: m.name)
def test_pinned_killer_kills_the_spec_patch_and_it_is_the_property_it_breaks(mutant, tmp_path):
    """The matrix's row: the patch is killed by the property it breaks; the audit's searches of
    that property (the swarm, then the directed one with the changed functions' adversaries; P9
    brings the silent pass, so the runs are the matrix's) find it again, in a child on the patched
    spec, and its trace replays there."""
    row = MATRIX[mutant.name]
    assert mutant.breaks in row["killed_by"]
    changed = mutant.apply(SPEC, tmp_path)
    names = [c.name for c in changed_functions(SPEC, changed)]
    request = {
        "mode": "search",
        "label": "changed",
        "spec": str(changed),
        "config": {"n_c": 8, "t_c": 1, "n_a": 4, "t_a": 1, "R": 4},
        "properties": [mutant.breaks, "P9"],
        "until": [mutant.breaks],
        "max_examples": 20,
        "focus": list(focus_of_functions(names, STANDARD)),  # as the audit: swarm, then directed
        "out": str(tmp_path),
        "exhaustive": False,
    }
    if mutant.breaks in row["directed"]:  # the swarm held it: the directed search alone (the same runs)
        request |= {"properties": [mutant.breaks], "directed_only": True}
    answer = run_side(request, tmp_path / "work")
    assert "error" not in answer, answer
    result = answer["properties"][mutant.breaks]
    assert not result["held"], f"{mutant.name} survived {mutant.breaks}"
    assert result["replays"]


def test_a_change_that_raises_on_some_runs_is_a_violation_with_a_trace_that_replays(tmp_path):
    """Issue 13: a refusal written as a lookup error (KeyError instead of ProtocolError) raises only
    on the runs where an aggregator gets a CERTIFY signature twice. That is a violation of `raised`
    with the run up to the raising step as its trace, shrunk (it replays on the changed spec and not
    on the baseline), not a one-line error; the properties the aborted search did not judge are
    listed."""
    changed = _copy(tmp_path, "raising-sometimes")
    agg = changed / "aggregator.py"
    refusal = '        raise ProtocolError("certify", "duplicate CERTIFY signature")\n'
    assert refusal in agg.read_text()
    agg.write_text(agg.read_text().replace(refusal, "        raise KeyError(msg.sig.signer)\n"))
    out = tmp_path / "out"
    done = _asfl("audit", str(changed), "--one-size", "--max-examples", "8", "--json", "--out", str(out))
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["newly_violated"] == ["raised"]
    size = doc["sizes"][0]
    assert size["not_judged"] == ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"]
    row = size["properties"]["raised"]
    assert row["baseline"] == "held" and row["changed"] == "violated" and row["replays"]
    assert "KeyError in aggregator.py" in row["reason"] and "(on_certify)" in row["reason"]
    trace = json.loads(Path(row["trace"]).read_text())
    assert trace["#meta"]["property"] == "raised" and trace["#meta"]["raises"]["type"] == "Deliver"
    # the initial state, then every step but the raising one; shrunk from the run that raised
    assert len(trace["states"]) == row["trace_steps"] < row["unshrunk_steps"]
    again = _asfl("--spec", doc["spec_copy"], "replay", row["trace"])
    assert again.returncode == 1 and "reproduced: raised: the spec raised KeyError" in again.stdout
    on_baseline = _asfl("replay", row["trace"])
    assert on_baseline.returncode == 0 and "raised holds on this run now" in on_baseline.stdout


def test_check_on_a_spec_that_raises_is_one_line_exit_2_from_any_worker(tmp_path):
    """`asfl --spec DIR check` on a spec whose transition raises on some run: the user's code, so one
    line naming the exception and the spec's frame, exit 2 (not an internal error), also when the
    run that raised ran in a worker process (StepRaised pickles)."""
    changed = _copy(tmp_path, "raising-sometimes")
    agg = changed / "aggregator.py"
    refusal = '        raise ProtocolError("certify", "duplicate CERTIFY signature")\n'
    agg.write_text(agg.read_text().replace(refusal, "        raise KeyError(msg.sig.signer)\n"))
    done = _asfl("--spec", str(changed), "check", "--max-examples", "8", "--no-progress", "--workers", "2")
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "the spec raised KeyError in aggregator.py" in line and "(on_certify)" in line


def test_a_changed_params_py_is_judged_by_the_quorum_theory(tmp_path):
    """Both sides run the baseline's params.py (the judge is the protocol's own), so the search
    cannot judge a change there; the quorum theory does: Q1 weakened to `T >= t_a` is newly
    violated as "quorum theory", exit 1, with the case that shows it."""
    changed = _copy(tmp_path)
    params = changed / "params.py"
    source = params.read_text()
    assert source.count('"T > t_a", T > t_a,') == 1
    params.write_text(source.replace('"T > t_a", T > t_a,', '"T > t_a", T >= t_a,'))
    done = _asfl("audit", str(changed), "--one-size", "--max-examples", "3", "--json")
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["newly_violated"] == ["quorum theory (spec/params.py)"]
    judged = doc["params_theory"]
    assert judged["baseline"]["agrees"] and not judged["changed"]["agrees"]
    first = judged["changed"]["first"][0]
    assert first["clause"] == "refusal" and "Q1" in first["expected"]


def test_a_spec_that_raises_under_the_explorer_is_one_line_exit_2(tmp_path):
    """Outside a search's run (the explorer's BFS) a raise in the spec given with --spec is the
    user's code too: one line naming the frame, exit 2, not an internal error."""
    raising = _copy(tmp_path, "raising")
    agg = raising / "aggregator.py"
    agg.write_text(
        agg.read_text().replace(
            '    """Collect CONTRIB for cluster j;', '    1 / 0\n    """Collect CONTRIB for cluster j;'
        )
    )
    done = _asfl("--spec", str(raising), "explore")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "ZeroDivisionError in aggregator.py" in done.stderr

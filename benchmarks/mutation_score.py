"""The property suite's mutation score on spec/ (issue 13): what share of the spec's mutants it kills.

    pip install -e '.[mutation]'
    python benchmarks/mutation_score.py [--sample N] [--modules client,aggregator] [--workers K]
    python benchmarks/mutation_score.py --ray ADDRESS      # on a Ray cluster (pip install 'asfl[ray]')

The mutants are cosmic-ray's (a standard mutation tool from PyPI, not a home-made mutator):
`cosmic-ray init` enumerates every mutation of the spec's modules into a session database, and
cosmic-ray's own `use_mutation` applies each to a private copy of spec/. cosmic-ray rather than
mutmut because its test command is arbitrary: the judge of each mutant is the property suite
alone, `asfl --spec COPY check` at a quick budget (--max-examples, default 20), never the unit
tests, since the score measures the verification; mutmut drives pytest.

Each mutant is a task (`MutantTask`: the mutation and the pristine spec's files) that writes its
own copy of spec/, applies the mutation there and judges it in a process of its own (`asfl --spec
DIR`, asfl/spec_overlay.py). The tasks run through the search's worker pool
(`properties/search/workers.run_ordered`): side by side on every core here (`--workers`, default
all), or as Ray tasks on a cluster (`--ray ADDRESS`, every node with asfl and cosmic-ray installed);
the verdicts come back in the tasks' order.

Four configurations (issue 13, item 5: changes are judged at sizes that exercise the rules). Each
mutant is judged first at the default configuration (n_c = 12, t_c = 1, R = 4: m = 2, Q = 1); one
that survives there is judged again at each of the `--also` ones in turn, by default
`--rounds 6` (R = 6, so Q = 2: the count of releases passes 1, and a mistake in it shows, where at
Q = 1 `0 ^ 1 == 0 + 1`), `--rounds 6 --t-c 0` (no crash, so m = k = 3 and every correct set is
its whole cluster, Q = 4: a mistake in the subset check that refuses a whole cluster stalls the
round) and `--n-c 8` (clusters of 2, m = 1: F1's size, where the share-sums of three one-member
or two-member sets of one slot, one per correct endorser, combine into a member's value, so a
weakened write-once or reveal rule shows; at m = 2, three pairs of three members do not).
Between the default check and the others, `asfl --spec COPY quorum` judges the spec's own
parameters against the quorum theory (z3's formulas of Q1-Q6, evaluated on every size of a small
scope, and the defaults of section 2: theory/spec_params.py): a change to `spec/params.py` changes
which configurations the spec accepts, which no check of one accepted configuration can see.
Then `asfl --spec COPY explore` (the exhaustive explorer at its small default configuration, under
a second) judges what only the explorer asks: a state's hash, its facts read from the state.
It dies if any configuration kills it; the timeout is the whole mutant's. Only survivors
pay for the later checks, so a killed mutant costs what it did before. Before judging, the
pristine spec is checked at every `--also` configuration: a kill counts only where it holds.

Verdicts, written back into the cosmic-ray session (`cr-report SESSION` reads them too):
  killed      `asfl check` found a property violated (exit 1); the properties are recorded
  error       the mutant made the spec raise or not import (exit 2 or 3): killed, but not by a
              property, so counted apart
  timed out   the check did not finish within --timeout, or ran out of the memory it may use
              (--memory, per check; a runaway mutant reached 12 GB and the kernel killed it,
              which must not count as a kill): no verdict, so not killed
  vacuous     every property held, but one the pristine spec's check exercises at a configuration
              was vacuous there in the mutant's (`asfl check` reports it: held on runs none of which
              reached the state it speaks about), so the check could no longer judge it: a kill,
              counted apart, and the score is printed without these too
  survived    every property held
  equivalent  listed in benchmarks/mutation_equivalents.toml with the reason (matched by module,
              function, operator and occurrence), not judged
The score is killed (properties and errors) / (all judged - equivalent); the share killed within
60 s is over the killed ones. Resumable: a session's judged mutants are not judged again.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.toml")
#: the address space one check may use, in GiB (--memory): two runaway mutants at once had filled
#: the machine's 24 GiB, and the kernel's OOM killer may pick any process
MEMORY_GIB = 4.0
#: what `asfl check` says when a transition of the spec under judgement ran out of memory
#: (`runs.raised_reason`: the exception, then the spec's own file, line and function)
SPEC_OUT_OF_MEMORY = "the spec raised MemoryError in "
#: seconds a mutant counts as killed quickly within (the issue's figure)
QUICK = 60.0
#: the configurations a mutant that survives the default is judged at, in turn (`asfl check`
#: options; issue 13, item 5): n_c = 12, R = 6 gives Q = 2; with t_c = 0 also m = k = 3; n_c = 8
#: gives m = 1, F1's size
ALSO = ("--rounds 6", "--rounds 6 --t-c 0", "--n-c 8")
#: the stage after the default check: `asfl quorum`, which judges the spec's own parameters against
#: the quorum theory on every size of a small scope (theory/spec_params.py); a few seconds, so it
#: comes before the slower configurations
QUORUM = ("quorum",)
#: the stage after it: `asfl explore` at its default small configuration (every interleaving, the
#: explorer's own state judge, under a second); code only the explorer asks (a state's hash, its
#: facts) is judged there
EXPLORE = ("explore",)


def _spec() -> Path:
    import asfl.spec

    return Path(asfl.spec.__path__[0])


def init_session(session: Path, modules: list[str], copy: Path) -> None:
    """`cosmic-ray init` over the spec modules named (all when empty), on a pristine copy."""
    config = session.with_suffix(".toml")
    paths = [str(copy / f"{m}.py") for m in modules] if modules else [str(copy)]
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(paths)}\n"
        "timeout = 600.0\n"
        "excluded-modules = []\n"
        'test-command = "asfl check"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    subprocess.run(["cosmic-ray", "init", str(config), str(session)], check=True, capture_output=True)


class Equivalents:
    """benchmarks/mutation_equivalents.toml: `[[equivalent]]` entries of module, function, operator
    and occurrence ("*" matches any operator or occurrence: a function the checked protocol never
    calls), each with its reason."""

    def __init__(self, path: Path = EQUIVALENTS, text: str | None = None) -> None:
        if text is None:
            text = path.read_text() if path.is_file() else ""
        doc = tomllib.loads(text)
        self.entries = [
            ((e["module"], e["function"], e["operator"], str(e["occurrence"])), e["reason"])
            for e in doc.get("equivalent", [])
        ]

    def reason(self, mutation) -> str | None:
        if _in_annotation(mutation):
            return ANNOTATION
        module, function, operator, occurrence = _key(mutation)
        for (m, f, o, k), why in self.entries:
            if (m, f) == (module, function) and o in ("*", operator) and k in ("*", str(occurrence)):
                return why
        return None


#: the reason of every mutant inside a type annotation (found from the module's AST, not listed)
ANNOTATION = (
    "inside a type annotation: the spec's modules import annotations from __future__, so an "
    "annotation is a string that is never evaluated"
)
_ANNOTATIONS: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}


def _in_annotation(mutation) -> bool:
    """Whether the mutation's position lies inside a parameter or return annotation."""
    import ast

    path = str(mutation.module_path)
    if path not in _ANNOTATIONS:
        spans = []
        for node in ast.walk(ast.parse(Path(path).read_text())):
            notes = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                notes.append(node.returns)
            elif isinstance(node, ast.arg | ast.AnnAssign):
                notes.append(node.annotation)
            spans += [
                ((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset)) for n in notes if n is not None
            ]
        _ANNOTATIONS[path] = spans
    start = tuple(mutation.start_pos)
    return any(a <= start < b for a, b in _ANNOTATIONS[path])


def name_of(mutation) -> str:
    """A mutant's name, as the report and --list print it: module.function operator#occurrence."""
    where = f"{Path(mutation.module_path).stem}.{mutation.definition_name}"
    return f"{where} {mutation.operator_name}#{mutation.occurrence}"


def _names(path: str) -> list[str]:
    """The mutant names of a file, one a line, without '#' comments (a name's own '#' is kept)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise SystemExit(f"mutation_score: cannot read {path}: {exc.strerror}") from None
    return [
        line.split(" # ")[0].strip() for line in lines if line.strip() and not line.lstrip().startswith("#")
    ]


def _key(mutation) -> tuple:
    return (
        Path(mutation.module_path).stem,
        str(mutation.definition_name),  # "None" at module level, as name_of prints it
        mutation.operator_name,
        int(mutation.occurrence),
    )


@dataclass(frozen=True)
class MutantTask:
    """One mutant to judge, self-contained so that it runs on any worker or Ray node: the spec's
    files (name -> source) and the cosmic-ray mutation of one of them."""

    files: tuple[tuple[str, str], ...]
    module: str  # the file of spec/ the mutation applies to
    operator_name: str
    operator_args: tuple[tuple[str, object], ...]
    occurrence: int
    max_examples: int
    timeout: float
    #: `asfl check` options of each later configuration, judged in turn while the mutant survives
    also: tuple[tuple[str, ...], ...] = ()
    #: the address space each check may use, in GiB (0: no cap)
    memory_gib: float = MEMORY_GIB
    #: judge a survivor of the default check with `asfl quorum` (the spec's parameters) and
    #: `asfl explore` (the small exhaustive configuration) too, before the later configurations
    theory_and_explorer: bool = True
    #: per configuration (its options, joined), the properties the pristine spec's check exercised
    #: there: one the mutant's check reports vacuous is a property the check can no longer judge
    exercised: tuple[tuple[str, tuple[str, ...]], ...] = ()


def task_of(
    item,
    files: tuple[tuple[str, str], ...],
    max_examples: int,
    timeout: float,
    also: tuple[tuple[str, ...], ...] = (),
    memory_gib: float = MEMORY_GIB,
    exercised: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> MutantTask:
    m = item.mutations[0]
    return MutantTask(
        files,
        Path(m.module_path).name,
        m.operator_name,
        tuple(sorted(m.operator_args.items())),
        int(m.occurrence),
        max_examples,
        timeout,
        also,
        memory_gib,
        exercised=exercised,
    )


def judge_task(task: MutantTask) -> dict:
    """Write a private copy of spec/, apply the mutation with cosmic-ray, judge it with the property
    suite (`asfl --spec COPY check`), and remove the copy."""
    from cosmic_ray.mutating import use_mutation
    from cosmic_ray.plugins import get_operator

    with tempfile.TemporaryDirectory(prefix="asfl-mutant-") as tmp:
        spec = Path(tmp) / "spec"
        spec.mkdir()
        for name, text in task.files:
            (spec / name).write_text(text)
        operator = get_operator(task.operator_name)(**dict(task.operator_args))
        with use_mutation(spec / task.module, operator, task.occurrence) as (_, mutated):
            if mutated is None:
                return {"verdict": "no mutation", "seconds": 0.0}
            start = time.perf_counter()
            vacuity: dict | None = None
            stages = ((), QUORUM, EXPLORE, *task.also) if task.theory_and_explorer else ((), *task.also)
            for config in stages:
                left = task.timeout - (time.perf_counter() - start)
                if config == QUORUM:
                    done = _quorum(spec, left, task.memory_gib)
                elif config == EXPLORE:
                    done = _explore(spec, left, task.memory_gib)
                else:
                    done = _check(spec, Path(tmp) / "out", task.max_examples, config, left, task.memory_gib)
                if done is None:
                    return {"verdict": "timed out", "seconds": time.perf_counter() - start}
                if done.returncode != 0:
                    break
                lost = _now_vacuous(done.stdout, dict(task.exercised).get(" ".join(config), ()))
                if lost and vacuity is None:
                    vacuity = {"by": [f"vacuous {p}" for p in lost], "at": " ".join(config)}
            seconds = time.perf_counter() - start
    verdict = _verdict(done, seconds)
    if config and verdict["verdict"] != "survived":
        verdict["at"] = " ".join(config)
    if verdict["verdict"] == "survived" and vacuity is not None:
        # no property failed anywhere, but one the pristine spec exercises went unjudged
        verdict = {"verdict": "vacuous", "seconds": seconds, **vacuity}
        if not verdict["at"]:
            del verdict["at"]
    return verdict


def _now_vacuous(stdout: str, exercised: tuple[str, ...]) -> list[str]:
    """The properties the pristine spec exercised (`exercised`) that this check's JSON reports
    vacuous: held on runs none of which reached the state the property speaks about."""
    if not exercised:
        return []
    try:
        doc = json.loads(stdout)
        return [
            p["property"]
            for p in doc.get("properties", [])
            if p.get("vacuous") and p["property"] in exercised
        ]
    except (json.JSONDecodeError, AttributeError, TypeError, KeyError):
        return []


def _memory_cap(gib: float):
    """A preexec function that caps the check's address space (RLIMIT_AS) at `gib` GiB: a mutant
    that allocates without end then fails inside its own process (MemoryError) instead of
    exhausting the machine."""

    def cap() -> None:
        import resource

        limit = int(gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return cap


def _check(
    spec: Path,
    out: Path,
    max_examples: int,
    config: tuple[str, ...],
    timeout: float,
    memory_gib: float = MEMORY_GIB,
):
    """`asfl --spec SPEC check` at one configuration, or None when it did not end within `timeout`."""
    cmd = ["asfl", "--spec", str(spec), "check", *config, "--max-examples", str(max_examples), "--json"]
    cmd += ["--no-progress", "--workers", "1", "--out", str(out)]
    return _run(cmd, spec, timeout, memory_gib)


def _quorum(spec: Path, timeout: float, memory_gib: float = MEMORY_GIB):
    """`asfl --spec SPEC quorum`: the spec's parameters judged by the quorum theory
    (theory/spec_params.py), or None when it did not end within `timeout`."""
    return _run(["asfl", "--spec", str(spec), "quorum", "--json"], spec, timeout, memory_gib)


def _explore(spec: Path, timeout: float, memory_gib: float = MEMORY_GIB):
    """`asfl --spec SPEC explore`: the small exhaustive configuration, or None past `timeout`."""
    return _run(["asfl", "--spec", str(spec), "explore", "--json"], spec, timeout, memory_gib)


def _run(cmd: list[str], spec: Path, timeout: float, memory_gib: float):
    try:
        return subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=max(timeout, 0.001),
            cwd=spec.parent,
            env={**os.environ, "PYTHONSAFEPATH": "1"},
            preexec_fn=_memory_cap(memory_gib) if memory_gib > 0 else None,
        )
    except subprocess.TimeoutExpired:
        return None


def _verdict(done: subprocess.CompletedProcess, seconds: float) -> dict:
    """Survived (exit 0), killed by the properties violated (exit 1), or an error (the spec raised)."""
    if done.returncode == 0:
        return {"verdict": "survived", "seconds": seconds}
    if done.returncode == 1:
        try:
            doc = json.loads(done.stdout)
            violated = [p["property"] for p in doc.get("properties", []) if not p.get("held", True)]
            judged = doc.get("spec_params") or {}  # asfl quorum: the clauses the spec's params break
            violated += sorted({f"params {d['clause']}" for d in judged.get("first", [])})
            # asfl explore: the properties the exhaustive search found violated
            violated += [
                f"explore {v['property']}" for v in doc.get("verdicts", []) if not v.get("holds", True)
            ]
        except (json.JSONDecodeError, AttributeError, TypeError, KeyError):
            violated = []
        return {"verdict": "killed", "seconds": seconds, "by": violated}
    why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1][:200]
    if done.returncode > 0 and SPEC_OUT_OF_MEMORY in done.stderr:
        # the mutant's own transition allocated past the cap (the check names the spec's frame:
        # `runs.raised_reason`); the pristine check stays far below it, so the step never returns
        # for a reason of the mutant's: an error, as any other exception the spec raises
        return {"verdict": "error", "seconds": seconds, "by": [why]}
    if done.returncode < 0 or "MemoryError" in done.stderr:
        # killed by a signal (the OOM killer) or out of its memory cap: the judge gave no verdict,
        # as with a timeout; the spec did not raise on a run, so it is no kill
        return {"verdict": "timed out", "seconds": seconds, "by": [f"out of memory or killed ({why})"]}
    return {"verdict": "error", "seconds": seconds, "by": [why]}


def _record(db, item, verdict: dict) -> None:
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    outcome = TestOutcome.SURVIVED if verdict["verdict"] == "survived" else TestOutcome.KILLED
    if verdict["verdict"] == "error":
        outcome = TestOutcome.INCOMPETENT
    db.set_result(
        item.job_id,
        WorkResult(worker_outcome=WorkerOutcome.NORMAL, output=json.dumps(verdict), test_outcome=outcome),
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--session", default=str(ROOT / ".mutation" / "session.sqlite"))
    ap.add_argument("--modules", default="", help="comma-separated spec modules (default all)")
    ap.add_argument(
        "--sample", type=int, default=None, help="judge this many pending mutants, drawn with --seed"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--draw-at",
        default=None,
        metavar="REV",
        help="draw the sample from the pool as the equivalents file of git revision REV left it "
        "(a past measurement's sample, drawn again); the report uses the current file",
    )
    ap.add_argument("--list", action="store_true", help="print the mutants drawn and stop")
    ap.add_argument(
        "--only",
        default=None,
        metavar="FILE",
        help="judge only the mutants named in FILE, one a line as --list prints them ('#' comments)",
    )
    ap.add_argument("--max-examples", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument(
        "--memory",
        type=float,
        default=MEMORY_GIB,
        help=f"GiB of address space each check may use (default {MEMORY_GIB:g}; 0: no cap)",
    )
    ap.add_argument(
        "--also",
        action="append",
        default=None,
        metavar="OPTIONS",
        help="asfl check options of a configuration judging each mutant that survives the default one "
        f"(repeatable; default {' and '.join(repr(a) for a in ALSO)}); '' for none",
    )
    ap.add_argument("--workers", type=int, default=None, help="processes, or Ray tasks at once (default all)")
    ap.add_argument(
        "--ray", default=None, metavar="ADDRESS", help="judge on Ray: 'local', or a cluster's address"
    )
    ap.add_argument("--fresh", action="store_true", help="start a new session")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--diffs", action="store_true", help="print each survivor's diff (to triage it)")
    args = ap.parse_args()
    from cosmic_ray.work_db import WorkDB, use_db

    session = Path(args.session)
    session.parent.mkdir(parents=True, exist_ok=True)
    pristine = session.parent / "spec"
    if args.fresh or not session.is_file():
        session.unlink(missing_ok=True)
        if pristine.exists():
            shutil.rmtree(pristine)
        shutil.copytree(_spec(), pristine, ignore=shutil.ignore_patterns("__pycache__"))
        modules = [m for m in args.modules.split(",") if m]
        init_session(session, modules, pristine)
    equivalents = Equivalents()
    drawn_with = equivalents if args.draw_at is None else _equivalents_at(args.draw_at)
    started = time.perf_counter()
    with use_db(str(session), WorkDB.Mode.open) as db:
        # cosmic-ray hands pending items out in random order (ORDER BY random()): sorted first, so
        # that --seed draws the same sample on every run of the same session's spec
        pending = sorted(db.pending_work_items, key=lambda i: name_of(i.mutations[0]))
        pending = [i for i in pending if drawn_with.reason(i.mutations[0]) is None]
        if args.only is not None:
            wanted = set(_names(args.only))
            pending = [i for i in pending if name_of(i.mutations[0]) in wanted]
        if args.sample is not None:
            pending = random.Random(args.seed).sample(pending, min(args.sample, len(pending)))
        if args.list:
            for item in pending:
                print(name_of(item.mutations[0]))
            return 0
        # listed equivalent since the draw: not judged, counted apart by the report
        pending = [i for i in pending if equivalents.reason(i.mutations[0]) is None]
        if not args.report_only and pending:
            from asfl.properties.search.workers import run_ordered

            files = tuple(sorted((f.name, f.read_text()) for f in pristine.glob("*.py")))
            also = tuple(
                tuple(shlex.split(a)) for a in (ALSO if args.also is None else args.also) if a.strip()
            )
            exercised = baseline_holds(pristine, args.max_examples, also)
            tasks = [
                task_of(item, files, args.max_examples, args.timeout, also, args.memory, exercised)
                for item in pending
            ]
            where = f"Ray ({args.ray})" if args.ray else f"{args.workers or 'all the'} processes"
            print(f"judging {len(pending)} mutants on {where} ...", flush=True)
            judged = iter(pending)

            def record(verdict: dict) -> None:  # in the tasks' order, as each one's turn comes
                item = next(judged)
                _record(db, item, verdict)
                m = item.mutations[0]
                print(
                    f"{verdict['verdict']:10s} {verdict['seconds']:6.1f}s "
                    f"{name_of(m)} "
                    f"{' '.join(verdict.get('by', []))}"
                    f"{' (at ' + verdict['at'] + ')' if 'at' in verdict else ''}",
                    flush=True,
                )

            run_ordered(judge_task, tasks, args.workers, args.ray, on_result=record)
        report(db, equivalents, time.perf_counter() - started)
        if args.diffs:
            survivor_diffs(db, pristine, equivalents)
    return 0


def baseline_holds(
    spec: Path, max_examples: int, configs: tuple[tuple[str, ...], ...]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Stop unless the pristine spec holds every property at the default and each later
    configuration, and its parameters agree with the quorum theory: a mutant's kill there counts
    only where the protocol itself holds. Returns, per configuration, the properties the pristine
    check exercised (`MutantTask.exercised`)."""
    exercised = []
    for config in ((), *configs):
        with tempfile.TemporaryDirectory(prefix="asfl-baseline-") as tmp:
            done = _check(spec.resolve(), Path(tmp) / "out", max_examples, config, 600.0)
        if done is None or done.returncode != 0:
            why = "timed out" if done is None else f"exit {done.returncode}"
            raise SystemExit(
                f"mutation_score: the pristine spec fails `asfl check {' '.join(config)}` ({why})"
            )
        props = json.loads(done.stdout)["properties"]
        exercised.append((" ".join(config), tuple(p["property"] for p in props if not p["vacuous"])))
        print(f"the pristine spec holds at {' '.join(config) or 'the default'}", flush=True)
    done = _quorum(spec.resolve(), 600.0)
    if done is None or done.returncode != 0:
        raise SystemExit("mutation_score: the pristine spec's parameters fail `asfl quorum`")
    print("the pristine spec's parameters agree with the quorum theory", flush=True)
    done = _explore(spec.resolve(), 600.0)
    if done is None or done.returncode != 0:
        raise SystemExit("mutation_score: the pristine spec fails `asfl explore`")
    print("the pristine spec holds in the small exhaustive configuration", flush=True)
    return tuple(exercised)


def _equivalents_at(rev: str) -> Equivalents:
    """The equivalents file as it was at git revision `rev` (the pool a past sample was drawn from)."""
    path = EQUIVALENTS.relative_to(ROOT).as_posix()
    done = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"mutation_score: no {path} at revision {rev!r}")
    return Equivalents(text=done.stdout)


def survivor_diffs(db, pristine: Path, equivalents: Equivalents) -> None:
    """The diff of every survivor against the pristine copy (cosmic-ray's own mutation of the code)."""
    import difflib

    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    verdicts = {job: json.loads(r.output or "{}") for job, r in db.results}
    for item in db.work_items:
        m = item.mutations[0]
        if verdicts.get(item.job_id, {}).get("verdict") != "survived" or equivalents.reason(m) is not None:
            continue
        path = pristine / Path(m.module_path).name
        code = path.read_text()
        mutated = mutate_code(code, get_operator(m.operator_name)(**m.operator_args), m.occurrence)
        diff = difflib.unified_diff(code.splitlines(), (mutated or code).splitlines(), lineterm="", n=1)
        print(f"\n## {Path(m.module_path).stem}.{m.definition_name} {m.operator_name}#{m.occurrence}")
        print("\n".join(list(diff)[2:]))


def report(db, equivalents: Equivalents, seconds: float) -> None:
    """Killed, survived, timed out and equivalent, with the reason of each equivalent."""
    done = {}
    for job_id, result in db.results:
        done[job_id] = json.loads(result.output) if result.output else {"verdict": "unknown"}
    items = list(db.work_items)
    counts: dict[str, int] = {}
    survivors, quick, killed, second = [], 0, 0, 0
    equivalent: dict[str, int] = {}
    for item in items:
        m = item.mutations[0]
        why = equivalents.reason(m)
        if why is not None:
            equivalent[why] = equivalent.get(why, 0) + 1
            continue
        verdict = done.get(item.job_id)
        if verdict is None:
            continue
        counts[verdict["verdict"]] = counts.get(verdict["verdict"], 0) + 1
        if verdict["verdict"] in ("killed", "error", "vacuous"):
            killed += 1
            quick += verdict["seconds"] <= QUICK
            second += "at" in verdict
        if verdict["verdict"] == "survived":
            survivors.append(name_of(m))
    judged = sum(counts.values())
    print(f"\nmutants in the session: {len(items)}; judged: {judged}; equivalent: {sum(equivalent.values())}")
    for name in ("killed", "error", "vacuous", "timed out", "survived", "no mutation"):
        print(f"  {name:12s} {counts.get(name, 0)}")
    if judged:
        print(f"score: {killed}/{judged} = {100 * killed / judged:.1f}% of the non-equivalent mutants judged")
        strict = killed - counts.get("vacuous", 0)
        print(f"  without the vacuous: {strict}/{judged} = {100 * strict / judged:.1f}%")
    if killed:
        print(f"killed within {QUICK:g} s: {quick}/{killed} = {100 * quick / killed:.1f}%")
        print(f"killed only at a later stage (quorum, explore or --also): {second}")
    times = [v["seconds"] for v in done.values() if v.get("verdict") not in (None, "no mutation", "unknown")]
    if times:
        print(f"mean wall time per judged mutant: {sum(times) / len(times):.1f} s")
    print(f"this run: {seconds:.0f} s")
    for s in survivors:
        print(f"  survived: {s}")
    for why, n in equivalent.items():
        print(f"  equivalent ({n}): {why}")


if __name__ == "__main__":
    sys.exit(main())

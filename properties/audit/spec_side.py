"""One side of a spec-diff audit, in its own interpreter (issue 13; the parent is `spec_diff.py`).

`python -m asfl.properties.audit.spec_side REQUEST.json RESULT.json` first makes `asfl.spec` the spec
folder the request names (`asfl/spec_overlay.py`: the package is created from that folder before
anything imports the spec), then imports the search and runs, on that spec:
  search  one swarm search judging every property, then one directed search (the adversaries the
          request names, aimed at the changed functions) of the properties the swarm held, as
          `audit._search` does for a rule table; the small exhaustive configuration; each
          violation's shrunk trace written and replayed here, on the spec that produced it;
  judge   the property of each trace the request lists judged on this spec's run of the same
          schedule (`runner.judge_schedule`): the baseline's answer to a changed spec's trace.
Changed functions the request names are watched: their code is swapped for a copy that first
records the call (`watch`), so the parent can warn when a change was never exercised (vacuous).

The judge is the baseline's: the parent builds each side's folder with the baseline's
`params.py` (T, m, the certificate size and the progress quorum the properties judge by), so only
the transitions differ between the sides. The result is JSON; an error of the spec under audit
(an exception other than a refusal) is returned as `error`, never raised past this process.
"""

from __future__ import annotations
import __future__

import ast
import json
import sys
import time
from pathlib import Path
from types import FunctionType, ModuleType

#: the name, in a watched function's module, of the set that records the calls
SEEN = "__asfl_exercised__"


def _function(module: ModuleType, qualname: str) -> FunctionType | None:
    obj: object = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, FunctionType) else None


def _def_node(tree: ast.Module, qualname: str) -> ast.FunctionDef | None:
    body: list[ast.stmt] = tree.body
    node = None
    for part in qualname.split("."):
        node = next(
            (n for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == part), None
        )
        if node is None:
            return None
        body = node.body
    return node if isinstance(node, ast.FunctionDef) else None


def watch(module: ModuleType, qualname: str, seen: set[str], label: str) -> bool:
    """Swap `module.qualname`'s code for a copy whose first statement adds `label` to `seen`;
    False when the function cannot be watched (absent, or a closure). Every reference to the
    function object (the rule table's, another module's import) sees the new code."""
    fn = _function(module, qualname)
    if fn is None or fn.__code__.co_freevars or module.__file__ is None:
        return False
    tree = ast.parse(Path(module.__file__).read_text(), module.__file__)
    node = _def_node(tree, qualname)
    if node is None:
        return False
    node.decorator_list = []
    record = ast.parse(f"{SEEN}.add({label!r})").body[0]
    ast.copy_location(record, node.body[0])
    node.body.insert(0, record)
    code = compile(
        ast.fix_missing_locations(ast.Module([node], [])),
        module.__file__,
        "exec",
        flags=__future__.annotations.compiler_flag,
        dont_inherit=True,
    )
    scratch = dict(module.__dict__)
    exec(code, scratch)  # noqa: S102 - the spec's own source, recompiled with one statement more
    fn.__code__ = scratch[node.name].__code__
    module.__dict__[SEEN] = seen
    return True


def _outcome_json(o, directed: list[str] | None) -> dict:
    return {
        "held": o.held,
        "reason": o.violation.reason if o.violation else "",
        "examples": o.examples,
        "steps": o.steps,
        "seconds": o.seconds,
        "first_failure_seconds": o.extra.get("first_failure_seconds"),
        "directed": directed,
    }


def _search(req: dict, out: Path | None) -> dict:
    from asfl.properties.audit.compare import SHRINK_WORK, SMALL
    from asfl.properties.exhaustive.explorer import explore
    from asfl.properties.search.focus import UNDIRECTED
    from asfl.properties.search.runner import PROPERTY_ORDER, judge_trace, search
    from asfl.properties.search.runs import SearchSetup as Setup
    from asfl.properties.search.runs import StepRaised
    from asfl.properties.traces import itf as traces
    from asfl.spec import STANDARD, Params

    params = Params(**req["config"])
    props = [p for p in PROPERTY_ORDER if p in req.get("properties", PROPERTY_ORDER)]
    kw = dict(max_examples=req.get("max_examples"), seed_value=req.get("seed"), shrink_work=SHRINK_WORK)
    if req.get("until"):  # stop at the first violation of these (a pinned kill, re-checked)
        kw["until"] = tuple(req["until"])
    focus = tuple(req.get("focus", ()))
    directed_by: dict[str, list[str]] = {}
    try:
        if req.get("directed_only"):  # the directed search alone (its runs do not depend on the swarm's)
            outcomes = search(Setup(params, STANDARD, adversaries=focus), props, **kw)
            directed_by = {p: list(focus) for p in props}
            held = []
        else:
            outcomes = search(Setup(params, STANDARD), props, **kw)
            held = [p for p in props if outcomes[p].held and p not in UNDIRECTED]
        directed = search(Setup(params, STANDARD, adversaries=focus), held, **kw) if focus and held else {}
    except StepRaised as e:  # the spec raised on one run: a violation with its trace, or on all: an error
        return _raised(req, Setup(params, STANDARD), props, e, out)
    if directed:
        for p in held:
            d, s = directed[p], outcomes[p]
            if "first_failure_seconds" in d.extra:
                d.extra["first_failure_seconds"] += s.seconds
            d.examples += s.examples
            d.steps += s.steps
            d.seconds += s.seconds
            outcomes[p] = d
            directed_by[p] = list(focus)
    result: dict = {"properties": {}}
    for p, o in outcomes.items():
        row = _outcome_json(o, directed_by.get(p))
        if o.trace is not None and out is not None:
            path = traces.write_itf(out / f"{req['label']}-{p}.itf.json", o.trace)
            replayed = judge_trace(o.trace, traces.replay(traces.read_itf(path)).worlds)
            row |= {"trace": str(path), "trace_steps": len(o.trace.events), "replays": replayed is not None}
        result["properties"][p] = row
    try:
        small = Params(**SMALL, allow_unsafe=True)
    except ValueError:
        small = None
    if small is not None and req.get("exhaustive", True):
        exploration = explore(small, rules=STANDARD, max_states=20_000)
        result["explored"] = {name: v.holds for name, v in exploration.verdicts.items()}
    return result


#: a change whose spec raises on each of the search's first runs raises on every run: it is refused in
#: one line (exit 2), like a spec that does not import, rather than kept as a violation (issue 13)
ALWAYS_RAISES_RUNS = 4


def _raised(req: dict, setup, props: list[str], raised, out: Path | None) -> dict:
    """A run of the search raised in the spec under audit (`runs.StepRaised`, issue 13). If the search's
    first ALWAYS_RAISES_RUNS runs all raise, the change raises on every run: an error. Otherwise a
    violation of RAISED whose trace is the run up to the step that raised (`Trace.raises`), shrunk
    (`minimize.minimize_raise`) and replayed here; the properties are not judged, since a run that
    raises ends the search."""
    from asfl.properties.audit.compare import SHRINK_WORK
    from asfl.properties.search.minimize import minimize_raise
    from asfl.properties.search.runner import judge_trace, plan_meta
    from asfl.properties.search.runs import RAISED, StepRaised, run_with_seed
    from asfl.properties.search.units import run_seed
    from asfl.properties.traces import itf as traces

    seed = req.get("seed") if req.get("seed") is not None else 0
    raising = 0
    for i in range(ALWAYS_RAISES_RUNS):
        try:
            run_with_seed(setup, run_seed(seed, i))
        except StepRaised:
            raising += 1
    if raising == ALWAYS_RAISES_RUNS:
        return {"error": raised.reason, "kind": "raised"}
    plan = raised.plan
    # shrunk like a property's counterexample: steps deleted while the same frame still raises
    shrunk = minimize_raise(setup, plan.byzantine, raised.events, raised.reason, SHRINK_WORK)
    before, raises, reason = (
        shrunk if shrunk is not None else (raised.events[:-1], raised.events[-1], raised.reason)
    )
    trace = traces.Trace(
        params=setup.params,
        seed=0,
        events=before,
        byzantine=plan.byzantine,
        domain="symbolic",
        rules=setup.rules.name,
        status="violation",
        property=RAISED,
        description=f"{RAISED}: {reason}",
        raises=raises,
        extra=plan_meta(plan),
    )
    row: dict = {
        "held": False,
        "reason": reason,
        "examples": None,
        "steps": len(raised.events),
        "seconds": None,
        "first_failure_seconds": None,
        "directed": None,
    }
    if out is not None:
        path = traces.write_itf(out / f"{req['label']}-{RAISED}.itf.json", trace)
        replayed = traces.read_itf(path)
        again = judge_trace(replayed, traces.replay(replayed).worlds)
        row |= {
            "trace": str(path),
            "trace_steps": len(before) + 1,
            "unshrunk_steps": len(raised.events),
            "replays": again is not None,
        }
    return {
        "properties": {RAISED: row},
        "not_judged": props,
        "raised_on_runs": f"{raising} of the first {ALWAYS_RAISES_RUNS}",
    }


def _judge(req: dict) -> dict:
    from asfl.properties.search.runner import judge_schedule
    from asfl.properties.search.runs import SearchSetup as Setup
    from asfl.properties.traces import itf as traces
    from asfl.spec import STANDARD, Params
    from asfl.spec.world import InvalidEvent

    setup = Setup(Params(**req["config"]), STANDARD)
    verdicts = {}
    for prop, path in req["traces"].items():
        try:
            violation = judge_schedule(traces.read_itf(path), setup)
        except InvalidEvent:  # the baseline cannot follow that schedule: it does not fail it
            violation = None
        verdicts[prop] = violation.reason if violation is not None else None
    return {"same_schedule": verdicts}


def run(req: dict) -> dict:
    """The side's work; the spec under audit raising is returned as `error` (one line)."""
    from asfl.errors import UsageError
    from asfl.spec_overlay import use_spec

    try:
        use_spec(req["spec"])
    except UsageError as e:
        return {"error": str(e), "kind": "import"}
    seen: set[str] = set()
    watched = []
    for name in req.get("watch", ()):
        module_name, _, qualname = name.partition(".")
        try:
            module = __import__(f"asfl.spec.{module_name}", fromlist=["_"])
        except ImportError:
            continue
        if watch(module, qualname, seen, name):
            watched.append(name)
    out = Path(req["out"]) if req.get("out") else None
    started = time.perf_counter()
    try:
        result = _judge(req) if req["mode"] == "judge" else _search(req, out)
    except Exception as e:  # noqa: BLE001 - the spec under audit raised: its doing, said in one line
        from asfl.properties.search.runs import raised_reason

        return {"error": raised_reason(e), "kind": "raised"}
    result["watched"] = watched
    result["exercised"] = sorted(seen)
    result["seconds"] = time.perf_counter() - started
    return result


def main(argv: list[str]) -> int:
    request, answer = Path(argv[0]), Path(argv[1])
    result = run(json.loads(request.read_text()))
    tmp = answer.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

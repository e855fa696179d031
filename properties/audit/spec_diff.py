"""Audit a change to the spec itself: `asfl audit --base REV [PATH]` (issue 13).

A variant file can only replace entries of the rule table; a protocol designer edits `spec/`. This
module audits a changed spec folder against a baseline one:
  1. the changed functions, from the diff: every function and method of both folders parsed with
     `ast` and compared without positions (`changed_functions`); module-level code is named too;
  2. both sides run side by side, each in its own interpreter (`spec_side.py`) with `asfl.spec`
     made from its folder before anything imports it (`asfl/spec_overlay.py`). Separate processes,
     not an import hook in this one: two versions of one package cannot share `sys.modules`, the
     engine imports the spec's message classes by name, and a spec that hangs or crashes the
     interpreter cannot take the report with it;
  3. the judge is the baseline's: both sides' folders get the baseline's `params.py` (the
     thresholds T, m, certificate size and progress quorum the properties judge by), so a changed
     `params.py` is reported and not run (a variant file's THRESHOLD / MIN_SET audits thresholds);
  4. each side is searched by the swarm, then by a directed search with the adversaries of the
     changed functions (`focus.focus_of_functions`), as `audit.py` does for the rules a variant
     replaces; the same searches on both sides, so the verdicts compare;
  5. a property is newly violated when the changed side fails it, the baseline held it under the
     same searches, and the baseline does not fail the changed side's own trace either (judged in
     a baseline child: `runner.judge_schedule`, finding F4);
  6. every size of `sizes` (the default configuration, and one with m >= 2 and clusters of 3,
     SECOND_SIZE) is audited; a changed function never called at a size is reported as vacuous
     there (the changed side's child watches them, `spec_side.watch`);
  7. a changed `params.py` is judged by the quorum theory instead (`asfl --spec DIR quorum`,
     theory/spec_params.py, one child per side): the changed spec must refuse exactly what Q1-Q6
     forbid and derive section 2's defaults; a disagreement the baseline does not have is newly
     violated, as "quorum theory".
"""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from asfl.properties.search.focus import focus_of_functions
from asfl.properties.search.runner import PROPERTY_ORDER
from asfl.properties.search.runs import RAISED
from asfl.spec import STANDARD

#: the second audited size: n_c=12, t_c=1, n_a=4 gives clusters of 3 and m = 2, where a mistake in
#: the |S| >= m check or in a set's bookkeeping can show (at the default size m = 1)
SECOND_SIZE = dict(n_c=12, t_c=1, n_a=4, t_a=1)
#: modules whose baseline version both sides run: the judge's parameters (the properties judge by
#: them), and the errors both sides raise
JUDGE_MODULES = ("params.py", "errors.py")


#: the name a changed params.py's disagreement with the quorum theory is reported under
QUORUM_THEORY = "quorum theory (spec/params.py)"


def judge_params(folder: Path, timeout: float = 300.0) -> dict:
    """`asfl --spec FOLDER quorum --json` in a child: the folder's own `params.py` judged by the
    quorum theory (theory/spec_params.py); its `spec_params` verdict. A spec that does not import
    there is bad input, in one line (SpecDiffError)."""
    cmd = [sys.executable, "-m", "asfl.cli", "--spec", str(folder), "quorum", "--json"]
    env = {**os.environ, "PYTHONSAFEPATH": "1"}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SpecDiffError(
            f"{folder}: the quorum theory's judgement of params.py ran past {timeout:g} s"
        ) from None
    if done.returncode not in (0, 1):
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise SpecDiffError(why.removeprefix("asfl: error: "))
    return json.loads(done.stdout)["spec_params"]


def params_said(side: dict) -> str:
    """One side's `judge_params` verdict in words."""
    return "agrees" if side["agrees"] else f"disagrees in {side['disagreements']} cases"


def params_case(d: dict) -> str:
    """One disagreement of `judge_params`, as theory/spec_params.Disagreement prints it."""
    return f"{d['clause']}: Params({d['params']}): expected {d['expected']}, the spec {d['got']}"


#: CPython 3.11 `ast.parse` is not safe in concurrent threads (its recursion-depth check trips:
#: "AST constructor recursion depth mismatch"); the catalogue audits patches on threads
_PARSE = threading.Lock()


class SpecDiffError(Exception):
    """Bad input to a spec-diff audit (a revision git does not know, a spec that does not import):
    one line, exit 2."""


# -- the diff -----------------------------------------------------------------------------------
def _definitions(source: str, filename: str) -> dict[str, str]:
    """ "qualname" -> the definition's AST dumped without positions, for every function and method;
    "<module>" -> the module's other top-level statements (constants, imports, assignments)."""
    tree = ast.parse(source, filename)
    out: dict[str, str] = {}
    rest: list[str] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out[prefix + node.name] = ast.dump(node, include_attributes=False)
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
                others = [n for n in node.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
                out[f"{prefix}{node.name}"] = ast.dump(
                    ast.ClassDef(node.name, node.bases, node.keywords, others, node.decorator_list),
                    include_attributes=False,
                )
            elif not prefix:
                rest.append(ast.dump(node, include_attributes=False))

    visit(tree.body, "")
    out["<module>"] = "\n".join(rest)
    return out


@dataclass(frozen=True)
class Change:
    name: str  # "module.qualname", or "module.<module>" for its top-level statements
    how: str  # added / removed / modified


def changed_functions(base: Path, changed: Path) -> list[Change]:
    """What differs between two spec folders, per function (see `_definitions`); a file that does
    not parse is bad input."""
    out: list[Change] = []
    files = sorted({p.name for p in base.glob("*.py")} | {p.name for p in changed.glob("*.py")})
    for name in files:
        module = name[:-3]
        sides = []
        for folder in (base, changed):
            path = folder / name
            try:
                with _PARSE:
                    sides.append(_definitions(path.read_text(), str(path)) if path.is_file() else {})
            except SyntaxError as e:
                raise SpecDiffError(
                    f"{path}: the spec does not parse (SyntaxError at line {e.lineno}: {e.msg})"
                ) from None
        before, after = sides
        for q in sorted(set(before) | set(after)):
            if q not in after:
                out.append(Change(f"{module}.{q}", "removed"))
            elif q not in before:
                out.append(Change(f"{module}.{q}", "added"))
            elif before[q] != after[q]:
                out.append(Change(f"{module}.{q}", "modified"))
    return out


# -- the two folders ----------------------------------------------------------------------------
def git_root(path: Path) -> Path:
    try:
        top = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (subprocess.CalledProcessError, FileNotFoundError):
        raise SpecDiffError(f"{path}: not inside a git checkout, so --base has no revision to read") from None
    return Path(top.stdout.strip())


def spec_at_revision(repo: Path, rev: str, dest: Path) -> Path:
    """`spec/` as it is at git revision `rev` of `repo`, written into `dest/spec`."""
    done = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", rev, "spec"], capture_output=True
    )
    if done.returncode != 0:
        why = (done.stderr.decode(errors="replace").strip().splitlines() or ["unknown"])[-1]
        raise SpecDiffError(f"--base {rev}: git cannot read spec/ at that revision ({why})")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "spec"


def side_folder(spec: Path, judge_from: Path, dest: Path) -> Path:
    """A copy of the spec folder `spec` whose JUDGE_MODULES are the baseline's (`judge_from`)."""
    shutil.copytree(spec, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in JUDGE_MODULES:
        if (judge_from / name).is_file():
            shutil.copy2(judge_from / name, dest / name)
    return dest


# -- the sides ------------------------------------------------------------------------------------
def run_side(request: dict, work: Path, timeout: float | None = None) -> dict:
    """One `spec_side.py` child on `request`; its JSON result (an `error` if it ended otherwise)."""
    work.mkdir(parents=True, exist_ok=True)
    req, ans = work / "request.json", work / "result.json"
    req.write_text(json.dumps(request))
    env = {**os.environ, "PYTHONSAFEPATH": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "asfl.properties.audit.spec_side", str(req), str(ans)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return {
            "error": f"the {request['label']} side did not finish within {timeout:g} s",
            "kind": "timeout",
        }
    if not ans.is_file():
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1][:200]
        return {"error": f"the {request['label']} side ended without a verdict ({last})", "kind": "crashed"}
    return json.loads(ans.read_text())


@dataclass
class SizeResult:
    """Both sides at one configuration."""

    config: dict
    baseline: dict
    changed: dict
    same_schedule: dict[str, str | None] = field(default_factory=dict)

    def baseline_held(self, prop: str) -> bool:
        """The baseline's verdict; RAISED, which only a changed side reports, holds on the baseline
        (its own search ran to the end without raising)."""
        return self.baseline["properties"].get(prop, {"held": True})["held"]

    @property
    def not_judged(self) -> list[str]:
        """Properties the changed side did not judge: a run on which the spec raised ended its search."""
        return list(self.changed.get("not_judged", ()))

    @property
    def newly_violated(self) -> list[str]:
        out = []
        for p, row in self.changed["properties"].items():
            if not row["held"] and self.baseline_held(p) and self.same_schedule.get(p) is None:
                out.append(p)
        for p, held in self.changed.get("explored", {}).items():
            if not held and self.baseline.get("explored", {}).get(p, True):
                out.append(f"{p} (exhaustive)")
        return out

    @property
    def newly_held(self) -> list[str]:
        return [
            p for p, row in self.changed["properties"].items() if row["held"] and not self.baseline_held(p)
        ]

    def vacuous(self, changes: list[Change]) -> list[str]:
        """Changed functions the changed side watched and never called at this size."""
        watched = set(self.changed.get("watched", ()))
        return [
            c.name for c in changes if c.name in watched and c.name not in self.changed.get("exercised", ())
        ]


@dataclass
class SpecAuditResult:
    base_label: str
    changed_label: str
    changes: list[Change]
    focus: tuple[str, ...]
    sizes: list[SizeResult]
    judge_changed: list[str]  # JUDGE_MODULES that differ: run as the baseline's on both sides
    seconds: float = 0.0
    spec_copy: Path | None = None  # the changed side's folder, kept under --out so traces replay
    #: a changed params.py judged by the quorum theory: {"baseline": verdict, "changed": verdict}
    params_theory: dict | None = None

    @property
    def params_newly_disagree(self) -> bool:
        judged = self.params_theory
        return judged is not None and judged["baseline"]["agrees"] and not judged["changed"]["agrees"]

    @property
    def newly_violated(self) -> list[str]:
        out: list[str] = [QUORUM_THEORY] if self.params_newly_disagree else []
        for s in self.sizes:
            out += [p for p in s.newly_violated if p not in out]
        return out

    @property
    def breaks(self) -> bool:
        return bool(self.newly_violated)

    def to_json(self) -> dict:
        return {
            "base": self.base_label,
            "changed": self.changed_label,
            "changed_functions": [{"name": c.name, "how": c.how} for c in self.changes],
            "directed": list(self.focus),
            "judge_modules_changed_not_run": self.judge_changed,
            "params_theory": self.params_theory,
            "newly_violated": self.newly_violated,
            "sizes": [
                {
                    "config": s.config,
                    "newly_violated": s.newly_violated,
                    "newly_held": s.newly_held,
                    "vacuous": s.vacuous(self.changes),
                    "not_judged": s.not_judged,
                    "properties": {
                        p: {
                            "baseline": "held" if s.baseline_held(p) else "violated",
                            "baseline_on_changed_trace": s.same_schedule.get(p),
                            "changed": "held" if row["held"] else "violated",
                            "reason": row["reason"],
                            "directed": row.get("directed"),
                            "trace": row.get("trace"),
                            "trace_steps": row.get("trace_steps"),
                            "unshrunk_steps": row.get("unshrunk_steps"),  # `raised`: the run that raised
                            "replays": row.get("replays"),
                        }
                        for p, row in s.changed["properties"].items()
                    },
                    "exhaustive": {
                        "baseline": s.baseline.get("explored"),
                        "changed": s.changed.get("explored"),
                    },
                }
                for s in self.sizes
            ],
            "spec_copy": str(self.spec_copy) if self.spec_copy else None,
            "seconds": round(self.seconds, 2),
        }


def size_label(config: dict) -> str:
    return "n_c={n_c}, t_c={t_c}, n_a={n_a}, t_a={t_a}".format(**config)


def size_folder(config: dict) -> str:
    """The folder of one size's traces under --out."""
    return "size-n_c{n_c}-t_c{t_c}-n_a{n_a}-t_a{t_a}".format(**config)


def _parallel(jobs: list[Callable[[], dict]], workers: int) -> list[dict]:
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda job: job(), jobs))


def spec_audit(
    base: Path,
    changed: Path,
    configs: list[dict],
    max_examples: int | None,
    seed: int | None,
    out: Path | None,
    base_label: str,
    changed_label: str,
    workers: int | None = None,
    exhaustive: bool = True,
    progress: Callable[[str], None] | None = None,
    baseline_cache: dict | None = None,
) -> SpecAuditResult:
    """Audit the spec folder `changed` against `base` at each configuration of `configs`.
    `baseline_cache` keeps the baseline's searches across audits of one baseline (the catalogue:
    the same spec against many patches), keyed by everything its search depends on."""
    start = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    changes = changed_functions(base, changed)
    names = [c.name for c in changes if c.how != "removed"]
    focus = focus_of_functions([c.name for c in changes], STANDARD)
    judge_changed = [m for m in JUDGE_MODULES if _differs(base / m, changed / m)]
    params_theory = None
    if "params.py" in judge_changed:  # each side's own params.py, judged by the theory
        params_theory = {"baseline": judge_params(base), "changed": judge_params(changed)}
    with tempfile.TemporaryDirectory(prefix="asfl-spec-audit-") as tmp:
        work = Path(tmp)
        base_dir = side_folder(base, base, work / "baseline" / "spec")
        changed_dir = side_folder(changed, base, work / "changed" / "spec")
        jobs, keys = [], []
        cache_keys: dict[int, str] = {}
        for k, config in enumerate(configs):
            for label, folder in (("baseline", base_dir), ("changed", changed_dir)):
                traces_to = (out / size_folder(config)) if out is not None else work / f"traces-{k}"
                traces_to.mkdir(parents=True, exist_ok=True)
                request = {
                    "mode": "search",
                    "label": label,
                    "spec": str(folder),
                    "config": config,
                    "focus": list(focus),
                    "max_examples": max_examples,
                    "seed": seed,
                    "out": str(traces_to),
                    "watch": names if label == "changed" else [],
                    "exhaustive": exhaustive and k == 0,
                }
                key = json.dumps({**request, "out": None, "spec": None}, sort_keys=True)
                if label == "baseline" and baseline_cache is not None and key in baseline_cache:
                    cached = baseline_cache[key]
                    jobs.append(lambda c=cached: c)
                else:
                    jobs.append(lambda r=request, w=work / f"{label}-{k}": run_side(r, w))
                keys.append((k, label))
                if label == "baseline":
                    cache_keys[k] = key
        if progress:
            progress(
                f"{len(jobs)} searches ({len(configs)} sizes x baseline, changed) on {workers} processes"
            )
        answers = dict(zip(keys, _parallel(jobs, workers), strict=True))
        for (k, label), answer in answers.items():
            if "error" in answer:
                raise SpecDiffError(
                    f"{base_label if label == 'baseline' else changed_label}: {answer['error']}"
                )
            if label == "baseline" and baseline_cache is not None:
                baseline_cache[cache_keys[k]] = answer
        sizes = [
            SizeResult(c, answers[(k, "baseline")], answers[(k, "changed")]) for k, c in enumerate(configs)
        ]
        judge_jobs = []
        for k, s in enumerate(sizes):
            suspects = {
                p: row["trace"]
                for p, row in s.changed["properties"].items()
                # RAISED is no property of the protocol: the baseline has nothing to judge it by
                if not row["held"] and row.get("trace") and s.baseline_held(p) and p != RAISED
            }
            if suspects:
                request = {
                    "mode": "judge",
                    "label": "baseline",
                    "spec": str(base_dir),
                    "config": s.config,
                    "traces": suspects,
                }
                judge_jobs.append((s, lambda r=request, w=work / f"judge-{k}": run_side(r, w)))
        for (s, _), answer in zip(judge_jobs, _parallel([j for _, j in judge_jobs], workers), strict=True):
            if "error" in answer:
                raise SpecDiffError(f"{base_label}: {answer['error']}")
            s.same_schedule = answer["same_schedule"]
        spec_copy = None
        if out is not None:
            spec_copy = out / "spec-changed"
            if spec_copy.exists():
                shutil.rmtree(spec_copy)
            shutil.copytree(changed_dir, spec_copy)
    return SpecAuditResult(
        base_label,
        changed_label,
        changes,
        focus,
        sizes,
        judge_changed,
        time.perf_counter() - start,
        spec_copy,
        params_theory,
    )


def _differs(a: Path, b: Path) -> bool:
    return a.is_file() != b.is_file() or (a.is_file() and a.read_bytes() != b.read_bytes())


def markdown_report(result: SpecAuditResult) -> str:
    """The spec-diff audit as Markdown."""
    lines = [
        f"# Spec audit: `{result.changed_label}` against `{result.base_label}`",
        "",
        "## Changed functions",
        "",
        *[f"- `{c.name}` ({c.how})" for c in result.changes],
        "",
        f"Directed search (the adversaries of the changed functions): {', '.join(result.focus) or 'none'}.",
    ]
    if result.judge_changed:
        lines += [
            "",
            f"Not run: {', '.join(result.judge_changed)} changed, but both sides run the baseline's "
            "(the judge's parameters are the protocol's own).",
        ]
    if result.params_theory is not None:
        base, changed = result.params_theory["baseline"], result.params_theory["changed"]
        lines += [
            "",
            f"params.py judged by the quorum theory: the baseline's {params_said(base)}, "
            f"the changed one's {params_said(changed)}.",
            *[f"- {params_case(d)}" for d in changed["first"]],
        ]
    for s in result.sizes:
        lines += [
            "",
            f"## {size_label(s.config)}",
            "",
            f"- properties newly violated: {', '.join(s.newly_violated) or 'none'}",
            f"- vacuous here (never called): {', '.join(s.vacuous(result.changes)) or 'none'}",
            *(
                [f"- not judged (a run on which the spec raised ended the search): {', '.join(s.not_judged)}"]
                if s.not_judged
                else []
            ),
            "",
            "| property | baseline | changed | trace |",
            "|---|---|---|---|",
        ]
        for p in (*PROPERTY_ORDER, RAISED):
            row = s.changed["properties"].get(p)
            if row is None:
                continue
            base = "held" if s.baseline_held(p) else "violated"
            if s.same_schedule.get(p):
                base = "violated (same schedule)"
            shown = "held" if row["held"] else "VIOLATED" + (" (directed)" if row.get("directed") else "")
            trace = f"`{Path(row['trace']).name}` ({row['trace_steps']} steps)" if row.get("trace") else ""
            lines.append(f"| {p} | {base} | {shown} | {trace} |")
    return "\n".join(lines) + "\n"

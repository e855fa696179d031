"""The catalogue's mistakes in the spec's own code: patches of `spec/` (issue 13).

A variant file can only replace a rule of the table (`audit/mutants/*.py`). The mistakes of
`audit/mutants/spec/*.patch` edit the transitions themselves (the client's release bookkeeping
and carry-over, the coordinator, the endorser, the certifier, the averager, the checks of
malformed sets), and the spec-diff audit judges them like any change to `spec/`
(`spec_diff.spec_audit`): the patched copy against the spec it patches.

A patch file is a unified diff of `spec/` (as `git diff` writes it) after a header of three lines:

    Mutant: NAME
    Description: one line
    Breaks: P6            (the property the mistake breaks: the one that must kill it)

`git apply` applies it to a copy of the spec; a patch that no longer applies (the spec moved on)
is refused in one line naming the patch.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SPEC_MUTANTS_DIR = Path(__file__).with_name("mutants") / "spec"


class PatchError(Exception):
    """A catalogue patch that is malformed or no longer applies."""


@dataclass(frozen=True)
class SpecMutant:
    name: str
    description: str
    breaks: str
    path: Path

    def apply(self, spec: Path, dest: Path) -> Path:
        """A copy of the spec folder `spec` with this patch applied, as `dest/spec`."""
        target = dest / "spec"
        shutil.copytree(spec, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        # outside any repository (GIT_CEILING_DIRECTORIES): git apply then patches plain files
        env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(dest.parent.resolve())}
        done = subprocess.run(
            ["git", "apply", "--whitespace=nowarn", str(self.path.resolve())],
            cwd=dest,
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or ["git apply failed"])[0]
            raise PatchError(f"{self.path.name}: the patch no longer applies to spec/ ({why})")
        return target


def load_patch(path: Path) -> SpecMutant:
    """The header of a catalogue patch (see the module docstring)."""
    fields: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith(("diff ", "--- ")):
            break
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    missing = [k for k in ("mutant", "description", "breaks") if not fields.get(k)]
    if missing:
        raise PatchError(f"{path.name}: header lacks {', '.join(missing)} (Mutant:, Description:, Breaks:)")
    return SpecMutant(fields["mutant"], fields["description"], fields["breaks"], path)


def spec_catalogue() -> list[SpecMutant]:
    """The shipped spec patches, by file name."""
    return [load_patch(p) for p in sorted(SPEC_MUTANTS_DIR.glob("*.patch"))]


def kill(
    mutant: SpecMutant,
    spec: Path,
    config: dict,
    max_examples: int | None,
    baseline_cache: dict | None = None,
    workers: int | None = None,
):
    """The mutant's row of the kill matrix: the spec-diff audit of the patched copy of `spec`
    against `spec` at `config` (one size, the catalogue's budget)."""
    import tempfile

    from asfl.properties.audit.compare import Kill
    from asfl.properties.audit.spec_diff import spec_audit

    with tempfile.TemporaryDirectory(prefix="asfl-mutant-") as tmp:
        changed = mutant.apply(spec, Path(tmp))
        result = spec_audit(
            spec,
            changed,
            [config],
            max_examples,
            None,
            None,
            "the spec",
            mutant.name,
            workers=workers,
            baseline_cache=baseline_cache,
        )
    size = result.sizes[0]
    props = size.changed["properties"]
    killed_by = [p for p in size.newly_violated if not p.endswith("(exhaustive)")]
    times = [
        props[p]["first_failure_seconds"] for p in killed_by if props[p]["first_failure_seconds"] is not None
    ]
    first = min(killed_by, key=lambda p: props[p]["first_failure_seconds"] or 0.0, default=None)
    return Kill(
        mutant=mutant.name,
        description=mutant.description,
        killed_by=killed_by,
        directed=[p for p in killed_by if props[p].get("directed")],
        exhaustive=[p.split()[0] for p in size.newly_violated if p.endswith("(exhaustive)")],
        refuted=[],
        seconds_to_kill=min(times) if times else None,
        trace_steps=props[first].get("trace_steps") if first else None,
    )

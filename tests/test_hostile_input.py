"""Hostile inputs across every command (issue #17): each is refused or judged in one line.

Every case asserts the exit code (0 held, 1 violated, 2 bad input; never 3, the internal-error
code), at most 3 lines on stderr, no traceback anywhere, and no file left behind in the working
directory. Fixtures are generated in a temporary directory; `asfl.cli.main` runs in-process (the
audit forks its own child for the variant, `asfl/sandbox.py`). Signals are tested in subprocesses
at the end, with the signal sent by the process itself at a chosen point (no timing).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from asfl import cli

PINNED = Path(__file__).parent / "properties" / "traces" / "F1-share-sum-at-once.itf.json"
#: a small configuration for the audits that run (a rule is called within the first example)
#: a small audit: R=1 is too short for P6's balance (H1), studied on purpose with --allow-unsafe
SMALL = ["--n-c", "4", "--t-c", "0", "--n-a", "4", "--t-a", "1", "--rounds", "1", "--max-examples", "1"]
SMALL.append("--allow-unsafe")


@dataclass
class Case:
    id: str
    argv: list[str]
    code: int = 2
    needle: str = ""  # a word the one-line refusal must contain
    files: dict[str, Callable[[Path], None]] = field(default_factory=dict)  # name -> maker


CASES: list[Case] = []


def case(id: str, argv: list[str], code: int = 2, needle: str = "", **files: Callable[[Path], None]) -> None:
    CASES.append(Case(id, argv, code, needle, {k.replace("__", "."): v for k, v in files.items()}))


# -- fixture makers ------------------------------------------------------------------------------
def text(content: str) -> Callable[[Path], None]:
    return lambda p: p.write_text(textwrap.dedent(content))


def raw(content: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(content)


def trace(mutate: Callable[[dict], object]) -> Callable[[Path], None]:
    def make(p: Path) -> None:
        doc = json.loads(PINNED.read_text())
        doc["states"] = doc["states"][:6]
        mutate(doc)
        p.write_text(json.dumps(doc))

    return make


def fifo(p: Path) -> None:
    os.mkfifo(p)


def directory(p: Path) -> None:
    p.mkdir()


def symlink_to_file(p: Path) -> None:
    (p.parent / "target.txt").write_text("keep")
    p.symlink_to(p.parent / "target.txt")


def dir_with_foreign_file(p: Path) -> None:
    p.mkdir()
    (p / "mine.txt").write_text("keep")


def meta(**changes: object) -> Callable[[dict], object]:
    return lambda d: d["#meta"].update(changes)


def params(**changes: object) -> Callable[[dict], object]:
    return lambda d: d["#meta"]["params"].update(changes)


def state(i: int, value: object) -> Callable[[dict], object]:
    return lambda d: d["states"].__setitem__(i, value)


def action(i: int, value: object) -> Callable[[dict], object]:
    return lambda d: d["states"][i].update({"action": value})


# -- 1. ITF traces, to replay and to show ---------------------------------------------------------
TRACES: dict[str, tuple[Callable[[Path], None], str]] = {
    "meta-string": (trace(lambda d: d.update({"#meta": "x"})), "#meta"),
    "meta-missing": (trace(lambda d: d.pop("#meta")), "#meta"),
    "params-string": (trace(meta(params="x")), "params"),
    "params-list": (trace(meta(params=[1, 2])), "params"),
    "n_c-string": (trace(params(n_c="8")), "n_c"),
    "n_c-float": (trace(params(n_c=8.5)), "n_c"),
    "n_c-huge": (trace(params(n_c=10**8)), "n_c"),
    "n_c-zero": (trace(params(n_c=0)), "params"),
    "d-huge": (trace(params(d=10**12)), "d"),
    "clip-bare-float": (trace(params(clip=1.0)), "clip"),
    "clip-not-decimal": (trace(params(clip={"type": "float", "value": "lots"})), "clip"),
    "genesis-not-hex": (trace(params(genesis={"type": "bytes", "hex": "zz"})), "genesis"),
    "unknown-param": (trace(params(evil=1)), "unknown"),
    "bigint-garbage": (trace(params(q={"#bigint": "12ab"})), "bigint"),
    "seed-float": (trace(meta(seed=1.5)), "seed"),
    "seed-huge": (trace(meta(seed=10**30)), "seed"),
    "byzantine-list": (trace(meta(byzantine=[1])), "byzantine"),
    "byzantine-range": (trace(meta(byzantine={"#tup": [99]})), "byzantine"),
    "format-other": (trace(meta(format="JSON")), "ITF"),
    "states-empty": (trace(lambda d: d.update({"states": []})), "states"),
    "states-object": (trace(lambda d: d.update({"states": {}})), "states"),
    "state-int": (trace(state(1, 5)), "states[1]"),
    "action-string": (trace(action(1, "Deliver")), "action"),
    "action-unknown": (trace(action(1, {"type": "Nope"})), "action"),
    "action-wrong-fields": (trace(action(1, {"type": "Crash", "who": 0})), "action"),
    "action-not-event": (trace(action(1, {"type": "Sig", "signer": 0})), "action"),
    "first-not-init": (trace(action(0, {"type": "Crash", "c": 0})), "Init"),
    "loop-negative": (trace(lambda d: d.update({"loop": -1})), "loop"),
    "fair-from-string": (trace(meta(fair_from="3")), "fair_from"),
    "property-unknown": (trace(meta(property="P99")), "property"),
    "domain-unknown": (trace(meta(domain="nope")), "domain"),
    "rules-unknown": (trace(meta(protocol="nope")), "rule table"),
    "deep-nesting": (raw(b"[" * 200_000 + b"]" * 200_000), "nested"),
    "binary": (raw(b"\xff\xfe\x00\x01"), "UTF-8"),
    "empty": (raw(b""), "JSON"),
    "not-json": (raw(b"{'#meta': 1}"), "JSON"),
    "top-array": (raw(b"[1, 2]"), "object"),
    "fifo": (fifo, "FIFO"),
    "directory": (directory, "directory"),
}
for name, (maker, needle) in TRACES.items():
    for command in ("replay", "show") if name != "property-unknown" else ("replay",):  # show judges nothing
        case(f"{command}-{name}", [command, "t.itf.json"], 2, needle, t__itf__json=maker)
case("replay-dev-zero", ["replay", "/dev/zero"], 2, "device")
case("show-dev-zero", ["show", "/dev/zero"], 2, "/dev")  # its SVG would go to /dev/zero.svg
case("replay-missing", ["replay", "missing.itf.json"], 2, "cannot read")
case("show-missing", ["show", "missing.itf.json"], 2, "cannot read")

# -- 2. output paths: refused before any work -----------------------------------------------------
BAD_DIRS: dict[str, tuple[str, dict[str, Callable[[Path], None]], str]] = {
    "a-file": ("afile", {"afile": text("x")}, "not a directory"),
    "under-a-file": ("afile/sub", {"afile": text("x")}, "not a directory"),
    "proc": ("/proc/asfl-out", {}, "/proc"),
    "sys": ("/sys/asfl-out", {}, "/sys"),
    "dev-null": ("/dev/null", {}, "/dev"),
}
for name, (path, files, needle) in BAD_DIRS.items():
    case(f"check-out-{name}", ["check", "--out", path, "--max-examples", "1"], 2, needle, **files)
    case(f"explore-trace-dir-{name}", ["explore", "--trace-dir", path], 2, needle, **files)
    case(f"audit-out-{name}", ["audit", "--mutants", "--out", path], 2, needle, **files)
    case(f"train-out-{name}", ["train", "--rounds", "1", "--out", path], 2, needle, **files)
case(
    "train-out-foreign", ["train", "--rounds", "1", "--out", "d"], 2, "did not write", d=dir_with_foreign_file
)
case("train-record-no-out", ["train", "--record"], 2, "--record")
SHOWABLE = {"t.itf.json": lambda p: p.write_text(PINNED.read_text())}
case(
    "show-svg-symlink",
    ["show", "t.itf.json", "--svg", "l.svg"],
    2,
    "symbolic link",
    l__svg=symlink_to_file,
    **{k.replace(".", "__"): v for k, v in SHOWABLE.items()},
)
case(
    "show-svg-device",
    ["show", "t.itf.json", "--svg", "/dev/null"],
    2,
    "device",
    t__itf__json=SHOWABLE["t.itf.json"],
)
case("show-svg-directory", ["show", "t.itf.json", "--svg", "d"], 2, "directory", d=directory,
     t__itf__json=SHOWABLE["t.itf.json"])  # fmt: skip
case(
    "show-svg-proc",
    ["show", "t.itf.json", "--svg", "/proc/x.svg"],
    2,
    "/proc",
    t__itf__json=SHOWABLE["t.itf.json"],
)
case("show-svg-under-file", ["show", "t.itf.json", "--svg", "f/x.svg"], 2, "not a directory", f=text("x"),
     t__itf__json=SHOWABLE["t.itf.json"])  # fmt: skip
case(
    "show-last-zero", ["show", "t.itf.json", "--last", "0"], 2, "--last", t__itf__json=SHOWABLE["t.itf.json"]
)

# -- 3. variant files (audit): refused at read or import, or named when a rule misbehaves -----------
GOOD_HEAD = 'NAME = "v"\nDESCRIPTION = "a test variant"\n'
VARIANTS: dict[str, tuple[Callable[[Path], None], list[str], str]] = {
    "binary": (raw(b"\x00\xff\xfe"), [], "UTF-8"),
    "fifo": (fifo, [], "FIFO"),
    "directory": (directory, [], "directory"),
    "too-large": (raw(b"#" * (2 * 2**20)), [], "limit"),
    "empty": (raw(b""), [], "NAME"),
    "null-bytes": (raw(b"NAME = 'x'\x00\n"), [], "v.py"),
    "syntax": (text("def (:\n"), [], "syntax error"),
    "deep-parens": (text("x = " + "(" * 5000 + ")" * 5000 + "\n"), [], "v.py"),
    "recursion": (text("def f():\n    return f()\nf()\n"), [], "RecursionError"),
    "sys-exit-0": (text("import sys\nsys.exit(0)\n"), [], "sys.exit(0)"),
    "system-exit-bye": (text('raise SystemExit("bye")\n'), [], "sys.exit('bye')"),
    "os-exit": (text("import os\nos._exit(0)\n"), [], "before any verdict"),
    "kill-self": (text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"), [], "SIGKILL"),
    "loop": (text("while True:\n    pass\n"), ["--timeout", "0.5"], "--timeout"),
    "no-name": (text('DESCRIPTION = "x"\n'), [], "NAME"),
    "rules-not-dict": (text(GOOD_HEAD + "RULES = [1]\n"), [], "RULES"),
    "unknown-rule": (text(GOOD_HEAD + "RULES = {'nope': len}\n"), [], "unknown rule"),
    "wrong-signature": (text(GOOD_HEAD + "RULES = {'cluster_ready': lambda x: x}\n"), [], "cluster_ready"),
    "rule-not-callable": (text(GOOD_HEAD + "RULES = {'cluster_ready': 3}\n"), [], "function"),
    "threshold-garbage": (text(GOOD_HEAD + "THRESHOLD = '__import__(\"os\")'\n"), [], "THRESHOLD"),
    "params-sizes": (text(GOOD_HEAD + "PARAMS = {'n_c': 3}\n"), [], "PARAMS"),
    "rule-raises": (
        text(GOOD_HEAD + "def cluster_ready(params, sums):\n    raise ValueError('oops')\n"
             "RULES = {'cluster_ready': cluster_ready}\n"),
        SMALL, "rule cluster_ready raised ValueError: oops",
    ),
    "rule-garbage": (
        text(GOOD_HEAD + "def certificate_size(params):\n    return 'three'\n"
             "RULES = {'certificate_size': certificate_size}\n"),
        SMALL, "returned 'three'",
    ),
    "rule-sys-exit": (
        text(GOOD_HEAD + "import sys\ndef cluster_ready(params, sums):\n    sys.exit(0)\n"
             "RULES = {'cluster_ready': cluster_ready}\n"),
        SMALL, "raised SystemExit",
    ),
    "rule-os-exit": (
        text(GOOD_HEAD + "import os\ndef cluster_ready(params, sums):\n    os._exit(0)\n"
             "RULES = {'cluster_ready': cluster_ready}\n"),
        SMALL, "before any verdict",
    ),
    "rule-hangs": (
        text(GOOD_HEAD + "import time\ndef cluster_ready(params, sums):\n    time.sleep(600)\n"
             "RULES = {'cluster_ready': cluster_ready}\n"),
        [*SMALL, "--timeout", "0.5"], "did not return within",
    ),
}  # fmt: skip
for name, (maker, extra, needle) in VARIANTS.items():
    case(f"audit-variant-{name}", ["audit", "v.py", *extra], 2, needle, v__py=maker)
case("audit-variant-dev-null", ["audit", "/dev/null"], 2, "device")
case("audit-variant-missing", ["audit", "missing.py"], 2, "cannot read")
case("audit-nothing", ["audit"], 2, "variant file")
case("audit-both", ["audit", "v.py", "--mutants"], 2, "not both", v__py=text(GOOD_HEAD))

# -- 4. parameters --------------------------------------------------------------------------------
PARAMS: list[tuple[str, list[str], str]] = [
    ("train-n-c-0", ["train", "--n-c", "0"], "--n-a"),
    ("train-n-c-huge", ["train", "--n-c", "100000000"], "--n-c"),
    ("train-n-a-0", ["train", "--n-a", "0"], "--n-a"),
    ("train-t-c-negative", ["train", "--t-c", "-1"], "--t-c"),
    ("train-clip-inf", ["train", "--clip", "inf"], "--clip"),
    ("train-clip-nan", ["train", "--clip", "nan"], "--clip"),
    ("train-clip-zero", ["train", "--clip", "0"], "--clip"),
    ("train-lr-inf", ["train", "--lr", "inf"], "--lr"),
    ("train-lr-negative", ["train", "--lr", "-1"], "--lr"),
    ("train-eta-huge", ["train", "--eta", "1e300"], "--eta"),
    ("train-epsilon-zero", ["train", "--epsilon", "0"], "--epsilon"),
    ("train-epsilon-inf", ["train", "--epsilon", "inf"], "--epsilon"),
    ("train-delta-one", ["train", "--delta", "1"], "--delta"),
    ("train-alpha-negative", ["train", "--alpha", "-1"], "--alpha"),
    ("train-speed-spread-inf", ["train", "--speed-spread", "inf"], "--speed-spread"),
    ("train-epochs-0", ["train", "--epochs", "0"], "--epochs"),
    ("train-epochs-huge", ["train", "--epochs", "1000000"], "--epochs"),
    ("train-rounds-0", ["train", "--rounds", "0"], "--rounds"),
    ("train-rounds-huge", ["train", "--rounds", "1000000000"], "--rounds"),
    ("train-crashes", ["train", "--crashes", "5"], "--crashes"),
    ("train-dataset", ["train", "--dataset", "../../etc/passwd"], "--dataset"),
    ("train-too-many-clients", ["train", "--n-c", "9000", "--rounds", "1"], "clients"),
    ("simulate-dim-huge", ["simulate", "--dim", "1000000000"], "--dim"),
    ("simulate-n-c-huge", ["simulate", "--n-c", "100000000"], "--n-c"),
    ("simulate-rounds-huge", ["simulate", "--rounds", "1000000000"], "--rounds"),
    (
        "simulate-memory",
        ["simulate", "--n-c", "64", "--n-a", "16", "--t-a", "5", "--dim", "100000"],
        "memory",
    ),
    ("simulate-events", ["simulate", "--n-c", "20000", "--rounds", "50"], "events"),
    ("simulate-n-a-0", ["simulate", "--n-a", "0"], "n_a"),
    ("simulate-t-a-negative", ["simulate", "--t-a", "-1"], "t_a"),
    ("simulate-dim-0", ["simulate", "--dim", "0"], "d >= 1"),
    ("simulate-unsafe-threshold", ["simulate", "--threshold", "1"], "Q"),
    ("simulate-max-steps-0", ["simulate", "--max-steps", "0"], "--max-steps"),
    ("check-n-c-huge", ["check", "--n-c", "100000000"], "--n-c"),
    ("check-rounds-huge", ["check", "--rounds", "1000000000"], "--rounds"),
    ("check-events", ["check", "--n-c", "5000", "--rounds", "100"], "events"),
    ("check-dim", ["check", "--dim", "100000"], "--dim"),
    ("check-max-examples-0", ["check", "--max-examples", "0"], "--max-examples"),
    ("check-max-examples-huge", ["check", "--max-examples", "1000000000"], "--max-examples"),
    ("check-max-chaos-negative", ["check", "--max-chaos", "-1"], "--max-chaos"),
    ("check-properties", ["check", "--properties", "P99"], "unknown properties"),
    ("check-rules", ["check", "--rules", "nope"], "rule table"),
    ("check-m-zero", ["check", "--m", "0"], "Q5"),
    ("explore-n-c-huge", ["explore", "--n-c", "1000"], "--n-c"),
    ("explore-max-states-0", ["explore", "--max-states", "0"], "--max-states"),
    ("explore-max-states-huge", ["explore", "--max-states", "1000000000000"], "--max-states"),
    ("explore-max-states-memory", ["explore", "--max-states", "9000000"], "memory"),
    ("explore-byzantine", ["explore", "--byzantine", "9"], "--byzantine"),
    ("explore-focus", ["explore", "--focus", "x"], "--focus"),
    ("explore-stop-at", ["explore", "--stop-at", "P5"], "--stop-at"),
    ("audit-timeout-zero", ["audit", "--mutants", "--timeout", "0"], "--timeout"),
    ("audit-timeout-nan", ["audit", "--mutants", "--timeout", "nan"], "--timeout"),
    ("audit-max-examples-huge", ["audit", "--mutants", "--max-examples", "1000000000"], "--max-examples"),
    ("audit-n-c-huge", ["audit", "--mutants", "--n-c", "100000000"], "--n-c"),
    ("quorum-threshold", ["quorum", "--threshold", "__import__('os')"], "--threshold"),
    ("quorum-min-set", ["quorum", "--min-set", "k ** 99"], "--min-set"),
    ("quorum-sizes", ["quorum", "--n-c", "2", "--n-a", "4"], "system model"),
    ("argparse-not-int", ["simulate", "--n-c", "1e9"], "invalid int"),
    ("argparse-unknown-option", ["check", "--evil"], "unrecognized"),
    ("argparse-no-command", [], "required"),
    ("argparse-unknown-command", ["rm"], "invalid choice"),
]
for name, argv, needle in PARAMS:
    case(name, argv, 2, needle)

# -- 5. controls: what the protocol assumes holds, and says so ---------------------------------------
case("quorum-no-arguments", ["quorum"], 0, "")
case("quorum-without-size-assumption", ["quorum", "--no-size-assumption"], 1, "")


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_hostile_input(c: Case, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    logs = tmp_path / "logs"
    monkeypatch.setenv("ASFL_LOG_DIR", str(logs))
    monkeypatch.chdir(work)
    for name, make in c.files.items():
        make(work / name)
    before = _tree(work)
    try:
        code = cli.main(c.argv)
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == c.code, (code, out[-500:], err)
    assert "Traceback" not in out + err
    assert len(lines) <= 3, err
    if c.code == 2:
        assert lines and lines[-1].startswith("asfl: error: ") and c.needle in err, err
    assert _tree(work) == before, "a file was left behind"
    assert not logs.exists() or not any(logs.iterdir()), "an internal error was logged"


def test_the_corpus_covers_every_class_with_at_least_100_inputs():
    assert len(CASES) >= 100
    commands = {c.argv[0] for c in CASES if c.argv}
    assert commands == {"replay", "show", "check", "explore", "audit", "train", "simulate", "quorum", "rm"}


# -- 6. signals and kills: subprocesses that signal themselves at a chosen point ----------------------
def _spawn(tmp_path: Path, script: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASFL_LOG_DIR": str(tmp_path / "logs")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )


def test_sigint_during_train_leaves_no_file_exits_130_and_says_what_finished(tmp_path):
    proc = _spawn(
        tmp_path,
        """
        import os, signal
        from asfl.reference import experiment
        real, calls = experiment.run_method, []
        def interrupted_second(*a, **k):
            calls.append(1)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGINT)
            return real(*a, **k)
        experiment.run_method = interrupted_second
        from asfl import cli
        argv = ["train", "--rounds", "1", "--n-c", "8", "--compare", "--record", "--out", "o"]
        raise SystemExit(cli.main(argv))
        """,
    )
    assert proc.returncode == 130, proc.stderr
    (line,) = proc.stderr.strip().splitlines()[-1:]
    assert "interrupted; finished: " in line and "(not written)" in line and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "no output, staging folder or log left"


def test_kill_9_while_writing_leaves_the_previous_set_whole(tmp_path, monkeypatch, capsys):
    """A run killed while writing its outputs leaves the earlier run's set untouched (the next run
    removes the dead run's staging folder: test_safe_io)."""
    run = ["train", "--rounds", "1", "--n-c", "8", "--quota", "1", "--json", "--out", "o"]
    monkeypatch.chdir(tmp_path)
    assert cli.main([*run, "--record"]) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()}
    killed = _spawn(
        tmp_path,
        f"""
        import os, signal
        from asfl.commands import train
        real, calls = train.write_atomic, []
        def killed_on_second(*a, **k):
            calls.append(1)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*a, **k)
        train.write_atomic = killed_on_second
        from asfl import cli
        raise SystemExit(cli.main({run!r}))
        """,
    )
    assert killed.returncode == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()} == before
    assert not any(p.name.endswith(".tmp") for p in (tmp_path / "o").iterdir())


def test_sigint_during_check_keeps_finished_traces_only_and_names_them(tmp_path):
    proc = _spawn(
        tmp_path,
        """
        import os, signal
        from asfl import errors
        real = errors.finished
        def finished_then_interrupted(what):  # SIGINT once the first property's verdict is in
            real(what)
            os.kill(os.getpid(), signal.SIGINT)
        errors.finished = finished_then_interrupted
        from asfl import cli
        raise SystemExit(cli.main(["check", "--properties", "P1,P2", "--max-examples", "1", "--out", "t"]))
        """,
    )
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "asfl: interrupted; finished: P1 held; no partial file written"
    ), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_sigint_while_the_commands_load_is_one_line_and_130(tmp_path):
    proc = _spawn(
        tmp_path,
        """
        import os, signal
        from asfl import cli
        real = cli.build_parser
        def interrupted_while_loading(only=None):
            os.kill(os.getpid(), signal.SIGINT)
            return real(only)
        cli.build_parser = interrupted_while_loading
        raise SystemExit(cli.main(["check"]))
        """,
    )
    assert proc.returncode == 130
    expected = "asfl: interrupted; nothing had finished; no partial file written"
    assert proc.stderr.strip().splitlines() == [expected]

"""The `asfl` command: the face of the project, and nothing else (ARCHITECTURE.md).

Each subcommand lives in its own module under `asfl/commands/`; this file only builds the parser
and turns every way a command can end into one line and one exit code (`errors.py`): bad input
2, an internal error 3 with its traceback in a log file, SIGINT 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import UsageError, begin, fail, internal_error, interrupted

#: the subcommands, each a module of asfl/commands/ with `register(sub)`; only the one named on the
#: command line is imported, so a command does not pay for another's imports (`train` loads
#: scikit-learn and scipy): every command but `train` starts in well under a second (issue 12)
COMMANDS = (
    "check",
    "sweep",
    "replay",
    "show",
    "audit",
    "quorum",
    "explore",
    "simulate",
    "train",
    "cluster",
    "serve",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        fail(f"{message} (see 'asfl {self.prog.split()[-1]} --help')" if " " in self.prog else message)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or of `only` (then only its module is imported)."""
    parser = _Parser(prog="asfl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f"asfl.commands.{name}").register(sub)
    return parser


def _named_command(argv: list[str]) -> str | None:
    """The subcommand the command line names, when its first word is one (else the full parser
    answers: `asfl --help`, or an unknown command)."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    begin()
    argv = sys.argv[1:] if argv is None else argv
    try:
        argv = _spec_option(argv)
        # imports the command named (numpy, z3, rich ...): a SIGINT meanwhile is handled like any other
        args = build_parser(_named_command(argv)).parse_args(argv)
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return interrupted()
    except Exception as e:  # noqa: BLE001 - a traceback is never a verdict (exit 1); see errors.py
        return _ended_by(e, argv)


def _spec_option(argv: list[str]) -> list[str]:
    """`asfl --spec DIR COMMAND ...`: run COMMAND on the spec in DIR (spec_overlay.py), which must be
    in place before any command imports the spec; the rest of the command line is returned."""
    if not argv or not (argv[0] == "--spec" or argv[0].startswith("--spec=")):
        return argv
    if argv[0] == "--spec":
        if len(argv) < 2:
            raise UsageError("--spec needs a folder: asfl --spec DIR COMMAND ...")
        path, rest = argv[1], argv[2:]
    else:
        path, rest = argv[0].split("=", 1)[1], argv[1:]
    from .spec_overlay import use_spec

    use_spec(path)
    return rest


def _ended_by(e: Exception, argv: list[str] | None) -> int:
    """One line and the exit code for an exception that ended a command."""
    from asfl.reference.atomic import UnsafeTarget
    from asfl.spec.errors import ParamsError

    if isinstance(e, ParamsError):
        fail(f"parameters refused by {e.condition}: {e.reason}")
    if isinstance(e, UsageError | UnsafeTarget):
        fail(str(e))
    said = _users_spec_raised(e)
    if said is not None:
        fail(said)
    if isinstance(e, OSError) and e.filename is not None:
        # the environment refused a path (disk full, permissions, a vanished directory): input
        fail(f"cannot use {e.filename}: {e.strerror or e}")
    return internal_error(e, argv)  # ours to fix


def _users_spec_raised(e: Exception) -> str | None:
    """The one line for an exception of a spec folder given with `--spec` (the user's code, so bad
    input, exit 2), or None; on the installed spec it is ours to fix (an internal error). A run of
    the search that raised (`runs.StepRaised`) keeps its run as a trace; anything else raised in
    the folder's code (the explorer's BFS, a state's hash, the setup) is named by its frame."""
    import traceback
    from pathlib import Path

    from .spec_overlay import OVERLAY

    spec = sys.modules.get("asfl.spec")
    if not hasattr(spec, OVERLAY):
        return None
    runs = sys.modules.get("asfl.properties.search.runs")  # loaded if a search ran at all
    if runs is not None and isinstance(e, runs.StepRaised):
        return f"{e} (the spec given with --spec; asfl audit keeps the run that raised as a trace)"
    root = str(Path(spec.__path__[0]))
    if any(f.filename.startswith(root) for f in traceback.extract_tb(e.__traceback__)):
        from asfl.properties.search.runs import raised_reason

        return f"{raised_reason(e)} (the spec given with --spec)"
    return None


if __name__ == "__main__":
    sys.exit(main())

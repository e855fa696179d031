"""The `asfl` command: the face of the project, and nothing else (ARCHITECTURE.md).

Each subcommand lives in its own module under `asfl/commands/`; this file only builds the parser
and turns bad input into one-line errors with exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from asfl.spec.errors import ParamsError

from .commands import audit as audit_cmd
from .commands import check as check_cmd
from .commands import cluster as cluster_cmd
from .commands import explore as explore_cmd
from .commands import quorum as quorum_cmd
from .commands import replay as replay_cmd
from .commands import serve as serve_cmd
from .commands import show as show_cmd
from .commands import simulate as simulate_cmd
from .commands import train as train_cmd
from .errors import UsageError, fail

COMMANDS = [
    check_cmd,
    replay_cmd,
    show_cmd,
    audit_cmd,
    quorum_cmd,
    explore_cmd,
    simulate_cmd,
    train_cmd,
    cluster_cmd,
    serve_cmd,
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        fail(f"{message} (see 'asfl {self.prog.split()[-1]} --help')" if " " in self.prog else message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="asfl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ParamsError as e:
        fail(f"parameters refused by {e.condition}: {e.reason}")
    except UsageError as e:
        fail(str(e))
    except KeyboardInterrupt:
        print("asfl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Exit codes: 2 bad input, 3 internal error with a log file, 130 interrupted (asfl/errors.py)."""

from __future__ import annotations

import pytest

from asfl import cli
from asfl.commands import quorum


def _main(argv):
    try:
        return cli.main(argv)
    except SystemExit as e:
        return e.code


def test_an_internal_error_is_one_line_exit_3_and_a_log_file(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ASFL_LOG_DIR", str(tmp_path))

    def broken(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(quorum, "run", broken)
    assert _main(["quorum"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error: RuntimeError: boom" in err[0]
    (log,) = tmp_path.iterdir()
    assert str(log) in err[0] and "Traceback" in log.read_text()


@pytest.mark.parametrize("exc,code", [(KeyboardInterrupt(), 130), (FileNotFoundError(2, "No such", "/x"), 2)])
def test_interrupts_and_refused_paths_are_one_line(monkeypatch, capsys, exc, code):
    def raising(args):
        raise exc

    monkeypatch.setattr(quorum, "run", raising)
    assert _main(["quorum"]) == code
    assert len(capsys.readouterr().err.strip().splitlines()) == 1

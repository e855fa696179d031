"""Output paths checked before work, umask modes, whole-or-nothing output sets (issue #17)."""

from __future__ import annotations

import os
import stat

import pytest
from asfl.reference.atomic import UnsafeTarget, write_atomic

from asfl.errors import UsageError
from asfl.safe_io import output_dir, output_file, safe_name, staged


def test_output_dir_refuses_a_file_a_path_under_a_file_and_kernel_file_systems(tmp_path):
    (tmp_path / "f").write_text("x")
    for bad in (tmp_path / "f", tmp_path / "f" / "sub", "/proc/asfl", "/sys/x", "/dev/x"):
        with pytest.raises(UsageError):
            output_dir(bad, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]  # the check creates nothing


def test_output_dir_accepts_a_creatable_directory_without_creating_it(tmp_path):
    assert output_dir(tmp_path / "a" / "b", "--out") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()


def test_write_atomic_uses_the_umask_and_refuses_links_and_devices(tmp_path):
    old = os.umask(0o027)
    try:
        path = write_atomic(tmp_path / "x.txt", "hi")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    (tmp_path / "link").symlink_to(tmp_path / "x.txt")
    with pytest.raises(UnsafeTarget):
        write_atomic(tmp_path / "link", "no")
    with pytest.raises(UsageError):
        output_file("/dev/null", "--svg")
    assert (tmp_path / "x.txt").read_text() == "hi"


def test_staged_outputs_replace_the_whole_set_or_nothing(tmp_path):
    out = tmp_path / "out"
    with staged(out, ["a", "b"]) as stage:
        (stage / "a").write_text("1")
        (stage / "b").write_text("1")
    with pytest.raises(KeyboardInterrupt), staged(out, ["a", "b"]) as stage:
        (stage / "a").write_text("2")
        raise KeyboardInterrupt
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a": "1", "b": "1"}
    with staged(out, ["a", "b"]) as stage:
        (stage / "a").write_text("3")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a": "3"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left


def test_staged_refuses_a_directory_holding_other_files(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(UsageError, match="did not write"), staged(tmp_path, ["a"]):
        pass
    assert (tmp_path / "mine.txt").read_text() == "keep"


def test_safe_name_keeps_a_name_inside_its_directory():
    assert safe_name("../../x") == "x"
    assert safe_name("quick-endorse") == "quick-endorse"
    assert safe_name("/") == "variant"
    assert "/" not in safe_name("a/b\\c\x00d")


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path):
    dead = tmp_path / ".out.staging-999999999-abc"  # no such process
    dead.mkdir()
    (dead / "a").write_text("half")
    with staged(tmp_path / "out", ["a"]) as stage:
        (stage / "a").write_text("whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    stale = tmp_path / ".x.txt.999999999.abc.tmp"  # no such process
    stale.write_text("half")
    live = tmp_path / f".x.txt.{os.getpid()}.def.tmp"  # a writer still running: kept
    live.write_text("busy")
    write_atomic(tmp_path / "x.txt", "whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "x.txt"])

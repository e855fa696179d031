"""`asfl show`: a per-party swimlane in the terminal and an SVG file."""

from __future__ import annotations

import xml.dom.minidom
from pathlib import Path

from asfl.properties.traces.itf import read_itf

from asfl.cli import main

F1 = Path(__file__).parent / "traces" / "F1-share-sum-at-once.itf.json"


def test_show_prints_lanes_and_writes_svg(tmp_path, capsys) -> None:
    svg = tmp_path / "f1.svg"
    assert main(["show", str(F1), "--svg", str(svg)]) == 0
    out = capsys.readouterr().out
    byzantine = f"a{read_itf(F1).byzantine[0]}*"
    assert byzantine in out and "UnmaskReq" in out  # the Byzantine lane and the equivocation
    doc = xml.dom.minidom.parse(str(svg))
    texts = [t.firstChild.data for t in doc.getElementsByTagName("text") if t.firstChild]
    assert byzantine in texts and sum("ShareSum" in t for t in texts) == 3


def test_show_bad_file_exit_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.itf.json"
    bad.write_text("{}")
    try:
        code = main(["show", str(bad)])
    except SystemExit as e:
        code = int(e.code)
    assert code == 2 and "Traceback" not in capsys.readouterr().err

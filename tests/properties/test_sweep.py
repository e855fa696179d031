"""The size sweep (issue 18, properties/search/sweep.py): a pinned part of the grid gives its pinned
verdicts, refusals name their condition, and H1 refuses P6 alone where balance cannot hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asfl.properties.search.sweep import Grid, byzantine_bound, sweep
from asfl.spec.params import Params

from asfl import cli

PINNED = json.loads(Path(__file__).with_name("sweep_manifest.json").read_text())


def test_the_pinned_part_of_the_grid_gives_the_pinned_verdicts():
    """Regenerate with the command in the manifest's grid (asfl sweep --n-c 8,12 --t-c 1,2 --n-a 4
    --rounds 3,4 --max-examples 8 --out tests/properties/sweep_manifest.json) and review the diff."""
    grid = Grid(**{k: tuple(v) for k, v in PINNED["grid"].items()})
    rows = sweep(grid.configurations(), PINNED["properties"], "ci", PINNED["max_examples"])
    pinned = [{k: v for k, v in row.items() if k != "seconds"} for row in PINNED["rows"]]
    for row in pinned:  # the manifest keeps each violation's text and trace; the pin is the verdicts
        for entry in row.get("properties", {}).values():
            for extra in ("violation", "trace", "trace_length"):
                entry.pop(extra, None)
    assert [r.verdicts() for r in rows] == pinned
    statuses = {r.label(): r.status for r in rows}
    assert statuses["n_c=8 t_c=2 n_a=4 t_a=1 R=4"] == "refused"  # Q5: clusters of 2, m = 0
    assert statuses["n_c=12 t_c=1 n_a=4 t_a=1 R=4"] == "held"  # m = 2, P6 judged
    p6 = {r.label(): r.properties.get("P6", {}) for r in rows if r.status != "refused"}
    assert p6["n_c=12 t_c=2 n_a=4 t_a=1 R=4"]["refused"] == "H1 quota room"
    assert p6["n_c=12 t_c=1 n_a=4 t_a=1 R=4"]["held"] and p6["n_c=12 t_c=1 n_a=4 t_a=1 R=4"]["exercised"] > 0
    # F7: where the correct coordinators' slots do not cover every quota (8 > (4-2)*3*1), the
    # manifest says that a persistent coordinator's victims were exempt; at n_c=12 (12 <= 12) not
    assert p6["n_c=8 t_c=1 n_a=4 t_a=1 R=4"]["victims_exempt"] is True
    assert p6["n_c=12 t_c=1 n_a=4 t_a=1 R=4"]["victims_exempt"] is False


def test_the_grid_takes_the_resilience_bound_for_t_a():
    assert [byzantine_bound(n) for n in (1, 3, 4, 6, 7, 10)] == [0, 0, 1, 1, 2, 3]
    configs = Grid(n_c=(14,), t_c=(1,), n_a=(4, 7), R=(4,)).configurations()
    assert configs == [
        {"n_c": 14, "t_c": 1, "n_a": 4, "t_a": 1, "R": 4},
        {"n_c": 14, "t_c": 1, "n_a": 7, "t_a": 2, "R": 4},
    ]


def test_h1_quota_room_is_two_rounds_of_slack():
    """H1: Q * max_i k_i <= (R - 2) * m. The default quota is the largest that fits (F5)."""
    assert Params(n_c=12, t_c=1, n_a=4, t_a=1, R=4).Q == 1  # (4-2)*2 // 3; was (4-1)*2 // 3 = 2
    assert Params(n_c=12, t_c=1, n_a=4, t_a=1, R=6).Q == 2
    room = Params(n_c=12, t_c=1, n_a=4, t_a=1, R=4, Q=2).quota_room
    assert not room.holds and room.numbers == "Q=2, max_i k_i=3, R=4, m=2"
    assert Params(n_c=8, t_c=1, n_a=4, t_a=1, R=3).quota_room.holds is False
    assert Params(n_c=8, t_c=1, n_a=4, t_a=1, R=4).quota_room.holds


def exit_code(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as e:  # a refusal: one line on stderr, then exit 2
        return int(e.code)


def test_check_refuses_p6_where_h1_fails_and_judges_the_rest(capsys):
    at_8 = ["check", "--n-c", "8", "--rounds", "3", "--max-examples", "2"]
    assert exit_code([*at_8, "--properties", "P6"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "H1 quota room" in err and "Q=1, max_i k_i=2, R=3, m=1" in err
    assert exit_code([*at_8, "--properties", "P1", "--json"]) == 0


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--n-c", "9-8"], "is empty"),
        (["--n-c", "eight"], "give integers and ranges"),
        (["--properties", "P10"], "unknown properties"),
        (["--max-examples", "0"], "at least 1"),
    ],
)
def test_bad_sweep_input_is_one_line_and_exit_2(args, needle, capsys, tmp_path):
    assert exit_code(["sweep", *args, "--out", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and needle in err
    assert not (tmp_path / "m.json").exists()


def test_the_manifest_is_written_whole_with_a_refusal_named(tmp_path, capsys):
    out = tmp_path / "m.json"
    args = ["sweep", "--n-c", "8", "--t-c", "2", "--n-a", "4", "--rounds", "4", "--out", str(out)]
    assert cli.main(args) == 0
    doc = json.loads(out.read_text())
    assert doc["summary"]["refused"] == 1 and doc["rows"][0]["condition"] == "Q5 cluster fill"
    assert "m=0" in doc["rows"][0]["reason"]
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_a_sweep_on_two_workers_gives_the_pinned_verdicts():
    """The sweep's searches run in work units (search/units.py): two local workers give the same
    row as the pinned one, made with one."""
    config = {"n_c": 8, "t_c": 1, "n_a": 4, "t_a": 1, "R": 4}
    (row,) = sweep([config], PINNED["properties"], "ci", PINNED["max_examples"], workers=2)
    (pinned,) = [r for r in PINNED["rows"] if r["config"] == config]
    assert row.verdicts() == {k: v for k, v in pinned.items() if k != "seconds"}


def test_a_stopped_campaign_keeps_its_rows_and_resume_judges_only_the_rest(tmp_path, capsys, monkeypatch):
    """The manifest is rewritten after every configuration (complete: false until the end), so a
    campaign stopped half-way keeps what it judged; --resume keeps those rows and judges the rest."""
    from asfl.properties.search import sweep as sweep_module

    out = tmp_path / "m.json"
    args = ["sweep", "--n-c", "8,12", "--t-c", "1", "--n-a", "4", "--rounds", "4"]
    args += ["--properties", "P1,P3", "--max-examples", "2", "--out", str(out), "--traces", str(tmp_path)]
    judge_one = sweep_module.sweep_one
    judged: list[int] = []

    def stopped_at_the_second(config, *rest):
        judged.append(config["n_c"])
        if len(judged) == 2:
            raise KeyboardInterrupt  # the campaign is stopped while judging n_c=12
        return judge_one(config, *rest)

    monkeypatch.setattr(sweep_module, "sweep_one", stopped_at_the_second)
    assert cli.main(args) == 130
    assert "--resume judges the rest" in capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["complete"] is False and [r["config"]["n_c"] for r in doc["rows"]] == [8]
    first_row = doc["rows"][0]

    judged.clear()
    monkeypatch.setattr(
        sweep_module,
        "sweep_one",
        lambda config, *rest: judged.append(config["n_c"]) or judge_one(config, *rest),
    )
    assert cli.main([*args, "--resume"]) == 0
    assert judged == [12] and "resuming: 1 of 2" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["complete"] is True and [r["config"]["n_c"] for r in doc["rows"]] == [8, 12]
    assert doc["rows"][0] == first_row and doc["summary"]["held"] == 2


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda d: d.update(max_examples=3), "max_examples 3, this sweep has 2"),
        (lambda d: d.update(protocol="0" * 16), "with protocol '0000000000000000'"),
        (lambda d: d.update(engine="1" * 16), "with engine '1111111111111111'"),
        (lambda d: d["rows"][0].update(status="fine"), "is not held, violated or refused"),
        (lambda d: d["rows"][0]["config"].update(n_c="8"), "not an integer"),
        (lambda d: d.pop("rows"), "no rows"),
    ],
)
def test_resume_refuses_a_manifest_of_another_sweep_in_one_line(tmp_path, capsys, change, needle):
    out = tmp_path / "m.json"
    args = ["sweep", "--n-c", "8", "--t-c", "1", "--n-a", "4", "--rounds", "4", "--properties", "P1"]
    args += ["--max-examples", "2", "--out", str(out)]
    assert cli.main(args) == 0
    doc = json.loads(out.read_text())
    change(doc)
    out.write_text(json.dumps(doc))
    capsys.readouterr()
    assert exit_code([*args, "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and needle in err
    assert json.loads(out.read_text()) == doc  # the refused manifest is left as it was

"""The system model judged on every step (properties/judge/model.py, issue 13): a world that loses
a crash, lets a crashed client act, drops a message or hides one from the coalition is refused
with the model's rule, and the search reports it as the spec raising, with the run as its trace."""

from __future__ import annotations

from dataclasses import replace

import pytest
from asfl.properties.domains.symbolic import SymbolicDomain
from asfl.properties.judge.model import ModelBroken, judged_step, menu_problem, model_problem
from asfl.spec import Params
from asfl.spec.messages import Party
from asfl.spec.world import Crash, Deliver, TrainDone, World, enabled, initial_world, step

PARAMS = Params(n_c=8, t_c=1, n_a=4, t_a=1, R=2)


def _world(byzantine=(0,)) -> World:
    return initial_world(PARAMS, SymbolicDomain(PARAMS), byzantine)


def _contribution(world: World, c: int) -> World:
    """Client c trains: its CONTRIB (and sealed shares) go in flight."""
    return judged_step(world, TrainDone(c))


def test_the_specs_own_steps_keep_the_model() -> None:
    world = _contribution(_world(), 3)
    assert world.in_flight
    for env in list(world.in_flight):
        world = judged_step(world, Deliver(env.id))
    judged_step(world, Crash(5))


def test_a_crash_the_world_forgets_breaks_crash_stop() -> None:
    before = _world()
    after = step(before, Crash(2))
    forgot = replace(after, crashed=frozenset())
    assert model_problem(before, Crash(2), after) is None
    assert model_problem(before, Crash(2), forgot)[0] == "M1 crash-stop"


def test_a_crashed_client_that_acts_breaks_crash_stop() -> None:
    """A message to a crashed client: the spec drops it, a world that lets the client act on it
    (its state changes) breaks crash-stop."""
    crashed = judged_step(_contribution(_world(), 3), Crash(4))
    env = crashed.in_flight[0]
    lost = replace(env, dst=Party("c", 4))
    before = replace(crashed, in_flight=(lost, *crashed.in_flight[1:]))
    after = step(before, Deliver(lost.id))
    assert model_problem(before, Deliver(lost.id), after) is None
    acted = replace(after.clients[4], released=7)
    moved = replace(after, clients=(*after.clients[:4], acted, *after.clients[5:]))
    assert model_problem(before, Deliver(lost.id), moved)[0] == "M1 crash-stop"


def test_a_delivery_that_leaves_its_message_or_loses_another_breaks_the_channels() -> None:
    before = _contribution(_world(), 3)
    first, *rest = before.in_flight
    after = step(before, Deliver(first.id))
    assert model_problem(before, Deliver(first.id), after) is None
    kept = replace(after, in_flight=(first, *after.in_flight))
    assert model_problem(before, Deliver(first.id), kept)[0] == "M2 reliable channels"
    lost = replace(after, in_flight=after.in_flight[1:])
    assert model_problem(before, Deliver(first.id), lost)[0] == "M2 reliable channels"


def test_a_message_to_the_coalition_that_does_not_reach_it_breaks_its_view() -> None:
    before = _world(byzantine=(0,))
    for c in range(PARAMS.n_c):  # every client's CONTRIB: cluster 0's go to the Byzantine 0
        before = _contribution(before, c)
    to_byz = next(e for e in before.in_flight if e.dst == Party("a", 0))
    after = step(before, Deliver(to_byz.id))
    assert model_problem(before, Deliver(to_byz.id), after) is None
    hidden = replace(after, coalition_inbox=before.coalition_inbox)
    assert model_problem(before, Deliver(to_byz.id), hidden)[0] == "M3 coalition view"


def test_judged_step_raises_the_rule_by_name(monkeypatch) -> None:
    """The world of the mutant `crashed | {c}` -> `crashed & {c}` (it survived every property):
    the crash is lost, and the judged step says which rule of section 1 broke."""
    import asfl.properties.judge.model as model

    monkeypatch.setattr(model, "step", lambda w, e: replace(step(w, e), crashed=frozenset()))
    with pytest.raises(ModelBroken) as e:
        judged_step(_world(), Crash(1))
    assert e.value.rule == "M1 crash-stop" and "Crash(1)" in e.value.reason


def test_a_step_that_does_not_count_one_breaks_the_clock() -> None:
    before = _world()
    after = step(before, Crash(1))
    assert model_problem(before, Crash(1), after) is None
    stuck = replace(after, steps=before.steps)
    assert model_problem(before, Crash(1), stuck)[0] == "M0 step count"


def test_a_world_that_withholds_the_adversarys_crash_or_a_delivery_breaks_the_model() -> None:
    """`len(crashed) < t_c` -> `> t_c` in world.enabled left the adversary no crash to offer, and
    every property held; the menu the world offers is judged too."""
    world = _contribution(_world(), 3)
    menu = enabled(world)
    assert menu_problem(world, menu) is None
    no_crash = [e for e in menu if not isinstance(e, Crash)]
    assert menu_problem(world, no_crash)[0] == "M1 crash-stop"
    held = [e for e in menu if not (isinstance(e, Deliver) and e.msg_id == world.in_flight[0].id)]
    assert menu_problem(world, held)[0] == "M2 reliable channels"
    crashed = judged_step(world, Crash(2))  # t_c = 1 reached: no crash may be offered any more
    assert not any(isinstance(e, Crash) for e in enabled(crashed))
    assert menu_problem(crashed, [*enabled(crashed), Crash(5)])[0] == "M1 crash-stop"


def test_a_world_that_offers_the_wrong_trainings_breaks_local_progress() -> None:
    """`training is not None` made `is None` in world.enabled: the chaos phase could end no
    training (the fair phase drives its own), and every property held."""
    world = _world()
    menu = enabled(world)
    assert menu_problem(world, menu) is None
    no_training = [e for e in menu if not isinstance(e, TrainDone)]
    assert menu_problem(world, no_training)[0] == "M4 local progress"
    trained = judged_step(world, TrainDone(3))  # client 3 contributed: no longer training
    assert menu_problem(trained, [*enabled(trained), TrainDone(3)])[0] == "M4 local progress"


def test_the_search_reports_a_world_whose_offered_moves_break_the_model(monkeypatch) -> None:
    """The menu is judged where the search draws from it (its chaos phase), not after every step:
    a world that never offers a crash (the mutant `< t_c` -> `> t_c` of world.enabled) ends the
    run as the spec raising, named by the rule, with the run so far as its trace."""
    from asfl.properties.search import runs

    def no_crash(world, adversary=None):
        return [e for e in enabled(world, adversary) if not isinstance(e, Crash)]

    monkeypatch.setattr(runs, "enabled", no_crash)
    setup = runs.SearchSetup(Params(n_c=8, t_c=1, n_a=4, t_a=1, R=2))
    with pytest.raises(runs.StepRaised) as e:
        for seed in range(20):  # any run with a second chaos step meets the broken menu
            runs.run_with_seed(setup, seed)
    assert "system model (M1 crash-stop)" in e.value.reason and e.value.events

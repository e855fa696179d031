"""The system model of PROTOCOL.md section 1, judged on every step the search takes (issue 13).

The properties P1-P9 are judged in the world `spec/world.py` builds: its events are the network's
and the adversary's moves. If that world is not the system of section 1, a property that holds
says nothing about it. So the search checks each step against the model's own rules:

* **M0 step count**: every step counts one (the world's clock: a trace's index, and the step
  the monitor records and the adversary reads).

* **M1 crash-stop**: a Crash(c) adds c to the crashed, and nothing else (no party changes, nothing
  is sent); at most t_c crash; the crashed never recover; a crashed client never acts again (it
  sends nothing and a message to it changes no party); and while fewer than t_c crashed, the
  world offers the adversary a crash of every client still up (its power, not just its limit).
* **M2 reliable channels**: a delivery takes exactly its own message out of flight, every step
  puts exactly what it sent in flight, under fresh ids (no loss, no duplicate, no reuse), and
  every message in flight may be delivered next.
* **M3 the coalition's view**: a message to a Byzantine aggregator reaches the coalition (its
  inbox grows by that message) and no correct party.
* **M4 local progress**: a correct client in training may end it next, and no other may (a
  client's local computation takes any time, but ends).

A step that breaks one raises `ModelBroken`, and a world whose offered moves break one is reported
by the search's chaos phase; the search treats both as the spec raising (`runs.StepRaised`): the
run up to it is its trace, and the audit keeps it. The rule names are the
model's, not the protocol's (M0-M4 here; I1 ... Q6 are section 2's and 5's). Each check reads the
worlds before and after, never the spec's own bookkeeping of what should happen, and costs a few
comparisons per step.
"""

from __future__ import annotations

from bisect import bisect_left

from asfl.spec.world import Crash, Deliver, Event, Inject, TrainDone, World, step


class ModelBroken(Exception):
    """A step of the spec's world broke a rule of the system model (section 1)."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason


def judged_step(world: World, event: Event) -> World:
    """`spec.world.step`, then the system model's judgement of the step (`model_problem`). The
    moves the world offers (`menu_problem`) are judged where they are drawn from, the search's
    chaos phase (`runs.execute`), which computes them anyway: the fair phase and the replays pick
    their events from the world's state, never from its menu."""
    after = step(world, event)
    problem = model_problem(world, event, after)
    if problem is not None:
        raise ModelBroken(*problem)
    return after


def menu_problem(world: World, menu: list[Event]) -> tuple[str, str] | None:
    """The rule of section 1 the world's offered moves (`enabled`, without the coalition's) break:
    every message in flight may be delivered next (M2: asynchronous, no message held back for
    good), while fewer than t_c crashed the adversary may crash any client still up, and never
    more (M1), and exactly the correct clients in training may end it (M4)."""
    crashable = {e.client for e in menu if isinstance(e, Crash)}
    up = set(range(world.params.n_c)) - world.crashed if len(world.crashed) < world.params.t_c else set()
    if crashable != up:
        return "M1 crash-stop", (
            f"with {len(world.crashed)} of t_c={world.params.t_c} crashed the world offers to crash "
            f"{sorted(crashable)}, not {sorted(up)}"
        )
    trainable = {e.client for e in menu if isinstance(e, TrainDone)}
    training = {st.c for st in world.clients if st.training is not None and st.c not in world.crashed}
    if trainable != training:
        return "M4 local progress", (
            f"clients {sorted(training)} are training, and the world offers to end the training of "
            f"{sorted(trainable)}"
        )
    deliverable = {e.msg_id for e in menu if isinstance(e, Deliver)}
    if len(deliverable) != len(world.in_flight) or any(env.id not in deliverable for env in world.in_flight):
        held = sorted(env.id for env in world.in_flight if env.id not in deliverable)
        return "M2 reliable channels", f"messages {held} are in flight but cannot be delivered"
    return None


def _envelope_id(env) -> int:
    return env.id


def model_problem(before: World, event: Event, after: World) -> tuple[str, str] | None:
    """The rule of section 1 the step `before --event--> after` breaks, and why, or None."""
    if after.steps != before.steps + 1:
        # the world's clock: the trace's index, and what the monitor and the adversary read
        return "M0 step count", f"a step took the count from {before.steps} to {after.steps}"
    last = after.last
    sent = last.sent if last is not None else ()
    t_c = before.params.t_c
    if not before.crashed <= after.crashed:
        return "M1 crash-stop", f"{sorted(before.crashed - after.crashed)} recovered from a crash"
    if len(after.crashed) > t_c:
        return "M1 crash-stop", f"{len(after.crashed)} clients crashed, more than t_c={t_c}"
    if isinstance(event, Crash):
        if after.crashed != before.crashed | {event.client}:
            return "M1 crash-stop", f"Crash({event.client}) left the crashed {sorted(after.crashed)}"
        if sent or after.clients != before.clients or after.aggregators != before.aggregators:
            return "M1 crash-stop", f"Crash({event.client}) changed a party or sent a message"
    elif after.crashed != before.crashed:
        return "M1 crash-stop", f"{type(event).__name__} crashed {sorted(after.crashed - before.crashed)}"
    if isinstance(event, TrainDone) and event.client in before.crashed:
        return "M1 crash-stop", f"crashed client {event.client} trained"
    # M2: what is in flight after = before, less the delivered message, plus what was sent
    delivered = 1 if isinstance(event, Deliver) else 0
    if len(after.in_flight) != len(before.in_flight) - delivered + len(sent):
        return "M2 reliable channels", (
            f"{type(event).__name__} left {len(after.in_flight)} messages in flight, "
            f"not {len(before.in_flight)} - {delivered} + {len(sent)} sent"
        )
    posted = after.in_flight[len(after.in_flight) - len(sent) :] if sent else ()
    if tuple(env.id for env in posted) != tuple(sent) or any(i < before.next_id for i in sent):
        return "M2 reliable channels", f"the messages sent got ids {list(sent)}, not fresh ones in order"
    if isinstance(event, Deliver):
        # in_flight is kept in id order (world.step): find by bisection, as the step does
        k = bisect_left(after.in_flight, event.msg_id, key=_envelope_id)
        if k < len(after.in_flight) and after.in_flight[k].id == event.msg_id:
            return "M2 reliable channels", f"message {event.msg_id} is still in flight once delivered"
        env = before.in_flight[bisect_left(before.in_flight, event.msg_id, key=_envelope_id)]
        dst = env.dst
        if dst.role == "c" and dst.index in before.crashed:
            if sent or after.clients != before.clients:
                return "M1 crash-stop", f"crashed client {dst.index} acted on message {env.id}"
        if dst.role == "a" and dst.index in before.byzantine:
            grown = len(after.coalition_inbox) == len(before.coalition_inbox) + 1
            if not grown or after.coalition_inbox[-1] is not env:
                return (
                    "M3 coalition view",
                    f"message {env.id} to Byzantine {dst.index} did not reach the coalition",
                )
            if sent or after.clients != before.clients or after.aggregators != before.aggregators:
                return "M3 coalition view", f"message {env.id} to Byzantine {dst.index} moved a correct party"
    elif not isinstance(event, Inject) and after.coalition_inbox != before.coalition_inbox:
        return "M3 coalition view", f"{type(event).__name__} changed the coalition's inbox"
    crashed_senders = {e.src.index for e in posted if e.src.role == "c" and e.src.index in before.crashed}
    if crashed_senders:
        return "M1 crash-stop", f"crashed clients {sorted(crashed_senders)} sent messages"
    return None

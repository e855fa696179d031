"""A derandomized search draws the same examples whatever else the process has loaded (`stable_draws`)."""

from __future__ import annotations

import importlib.util
import sys
from contextlib import nullcontext

from asfl.properties.search.profiles import PROFILES, stable_draws
from hypothesis import Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers


def _draws(guard) -> list[list[int]]:
    out: list[list[int]] = []

    @settings(PROFILES["ci"], max_examples=60, phases=[Phase.generate])
    @seed(7)
    @given(st.lists(st.integers(0, 200), min_size=20, max_size=20))
    def probe(xs: list[int]) -> None:
        out.append(xs)

    with guard():
        probe()
    return out


def _with_literals_loaded(tmp_path, guard) -> list[list[int]]:
    # a "local" module (outside site-packages) whose literals Hypothesis would draw from
    source = tmp_path / "asfl_literals_probe.py"
    source.write_text("VALUES = [" + ", ".join(str(k) for k in range(101, 400)) + "]\n")
    spec = importlib.util.spec_from_file_location("asfl_literals_probe", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules["asfl_literals_probe"] = module
    try:
        spec.loader.exec_module(module)
        return _draws(guard)
    finally:
        del sys.modules["asfl_literals_probe"]


def test_the_private_hook_stable_draws_replaces_is_still_there():
    # stable_draws swaps this function out: a Hypothesis upgrade that moves it must fail here
    assert callable(providers._get_local_constants)
    assert hasattr(providers.CONSTANTS_CACHE, "cache")
    original = providers._get_local_constants
    with stable_draws():
        assert len(providers._get_local_constants().integers) == 0
    assert providers._get_local_constants is original


def test_loading_a_module_full_of_literals_does_not_change_the_draws(tmp_path):
    before = _draws(stable_draws)
    assert _with_literals_loaded(tmp_path, stable_draws) == before


def test_without_the_guard_the_same_module_does_change_them(tmp_path):
    # the hazard stable_draws removes is real, so the test above can fail (this leaves the probe's
    # literals in Hypothesis's pool for the rest of the process: the searches of asfl are guarded)
    before = _draws(nullcontext)
    assert _with_literals_loaded(tmp_path, nullcontext) != before

"""Hypothesis profiles of the exploration: `ci` (deterministic, the default) and `deep`.

`ci` derandomizes, keeps no example database, has no deadline and prints the failing example's
blob, so a failure reproduces exactly; `deep` explores further with fresh randomness. The
environment variable ASFL_PROFILE (or `asfl check --profile`) picks one.

`stable_draws` makes a derandomized search independent of the process it runs in (see there).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, settings
from hypothesis.internal.conjecture import providers as _providers

_QUIET_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

PROFILES = {
    "ci": settings(
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=True,
        max_examples=40,
        suppress_health_check=_QUIET_CHECKS,
    ),
    "deep": settings(
        database=None,
        deadline=None,
        print_blob=True,
        max_examples=1000,
        suppress_health_check=_QUIET_CHECKS,
    ),
}

for _name, _settings in PROFILES.items():
    settings.register_profile(f"asfl-{_name}", _settings)


_NO_LOCAL_CONSTANTS = _providers.Constants()


@contextmanager
def stable_draws() -> Iterator[None]:
    """Within this block Hypothesis draws nothing from the constants of "local" source files.

    Hypothesis (since 6.131) answers about 5% of its integer draws with a literal found in the
    source of any non-library module loaded in the process. Which modules are loaded depends on what
    ran before (a mutant file, a user's variant, the reference), and whether asfl itself counts as
    local depends on how it was installed (editable or not), so a derandomized search drew other
    examples in `pytest` than in `asfl audit`, and other examples again after any edit that added
    a literal anywhere in asfl. The exploration's verdicts are pinned (the kill matrix, the
    findings), so its draws must depend on the seed alone. Hypothesis's own constant pool stays.

    This replaces a private function of Hypothesis; the version is pinned in pyproject.toml, and
    `tests/properties/test_profiles.py` fails if the function moves.
    """
    saved = _providers._get_local_constants
    _providers._get_local_constants = lambda: _NO_LOCAL_CONSTANTS
    _providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        _providers._get_local_constants = saved
        _providers.CONSTANTS_CACHE.cache.clear()

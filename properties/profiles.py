"""Hypothesis profiles of the exploration: `ci` (deterministic, the default) and `deep`.

`ci` derandomizes, keeps no example database, has no deadline and prints the failing example's
blob, so a failure reproduces exactly; `deep` explores further with fresh randomness. The
environment variable ASFL_PROFILE (or `asfl check --profile`) picks one.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

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

"""Shared fixtures and the Hypothesis profiles: `ci` (deterministic, the default) and `deep`.

`ci` derandomizes, keeps no example database and prints the failing example's blob, so a
failure in CI reproduces exactly; `HYPOTHESIS_PROFILE=deep pytest` explores further.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    deadline=None,
    print_blob=True,
    max_examples=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

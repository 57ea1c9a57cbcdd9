"""Hypothesis profiles: ``ci`` (default, >= 200 examples per rule) and ``thorough``
(2,000 per rule). Select with DUALNUM_PROFILE=thorough."""
import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, derandomize=False, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=200, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
settings.register_profile("dev", max_examples=30, **_COMMON)
settings.load_profile(os.environ.get("DUALNUM_PROFILE", "ci"))

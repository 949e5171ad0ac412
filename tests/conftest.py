"""Test-wide settings.

Hypothesis' per-example deadline (200 ms by default) measures the machine, not the code: on a
shared 2-core machine under load the fan-in's property tests took 276 ms for one example and
failed. Our speed goals live in benchmarks/, so no test has a deadline.
"""

from hypothesis import settings

settings.register_profile("shard-action", deadline=None)
settings.load_profile("shard-action")

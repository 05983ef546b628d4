"""onboard-sync benchmarks: ``python -m bench`` (full) or ``python -m bench --quick`` (CI-sized).

Scenarios live in :mod:`bench.scenarios` (one module each, registered in its ``SCENARIOS``);
the CRM sandbox runs in its own process (:mod:`bench.sandbox_proc`) and each sync in another
(:mod:`bench.measure`), so the figures are the engine's alone.
"""

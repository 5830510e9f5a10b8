"""Benchmarks: each prints ratios measured in the same run, never asserts wall-clock times.

``python -m bench`` (``make bench``) runs every ``bench/bench_*.py`` module's
``main()``; ``python -m bench NAME`` runs one. ``python -m bench.faults``
(``make faults``) runs the long fault loops.
"""

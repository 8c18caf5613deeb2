"""Benchmarks: the API against hand-written baselines served by the same server in the same run."""

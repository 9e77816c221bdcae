"""Benchmark scripts (run as modules, e.g. `python -m benchmarks.twolvlimp_latency`)."""

"""Benchmarks: `make bench` (python -m bench.run) writes docs/benchmarks.md."""

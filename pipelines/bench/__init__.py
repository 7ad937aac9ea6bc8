"""Benchmarks, apart from the test suite: `make bench`."""

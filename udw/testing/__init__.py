"""Deterministic tiny models for tests, benchmarks and demos (no downloads)."""

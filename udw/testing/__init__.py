"""Builders of small deterministic models for tests and benchmarks (no downloads)."""

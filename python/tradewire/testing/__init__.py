"""Helpers for tests, benchmarks and demos: synthetic market data and fixtures."""

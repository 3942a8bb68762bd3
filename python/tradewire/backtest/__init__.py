"""Backtests: strategies run over recorded and historical market data in market time."""

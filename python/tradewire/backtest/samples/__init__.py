"""A real recording shipped with the package, for demos: ``sample_path()`` (see README.md)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLE_NAME", "sample_path"]

SAMPLE_NAME = "sample"
"""What the commands take for ``--replay``/``--data`` to mean this recording."""


def sample_path() -> Path:
    """The BTCUSDT recording of 2024-08-08 23:54-00:00 UTC (six minutes, real Binance streams)."""
    return Path(__file__).with_name("btcusdt-2024-08-08.jsonl.gz")

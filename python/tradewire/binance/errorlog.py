"""The API error log (moved to the venue-neutral :mod:`tradewire.apilog`; kept importable here)."""

from tradewire.apilog import ErrorLog, redact_params

__all__ = ["ErrorLog", "redact_params"]

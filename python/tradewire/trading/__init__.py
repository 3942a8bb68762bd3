"""Running strategies: the strategy API, the runner, the order journal, PnL and reports.

Everything here sees venues only through :mod:`tradewire.venues.protocols` and the neutral
types of :mod:`tradewire.model`; nothing here speaks an exchange's wire format.
"""

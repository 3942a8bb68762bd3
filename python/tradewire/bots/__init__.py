"""Built-in bots: grid and DCA, with the parameters users know from 3Commas, Pionex and others."""

from __future__ import annotations

from tradewire.bots.dca import DcaBot
from tradewire.bots.grid import GridBot
from tradewire.bots.params import DcaParams, GridParams
from tradewire.bots.signal import SignalBot
from tradewire.errors import BotConfigError

__all__ = ["BotConfigError", "DcaBot", "DcaParams", "GridBot", "GridParams", "SignalBot"]

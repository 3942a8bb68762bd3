"""A local Interactive Brokers Client Portal Web API gateway, for tests and paper trading.

It is its own code, independent of any IB client: the oracle a client is tested against, as
``tradewire.exchange`` is for Binance. See docs/ibgateway.md.
"""

from tradewire.ibgateway.faults import IBFaults
from tradewire.ibgateway.oauth import OAuthCredentials
from tradewire.ibgateway.server import LocalIBGateway

__all__ = ["IBFaults", "LocalIBGateway", "OAuthCredentials"]

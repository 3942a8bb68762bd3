"""A local Binance-compatible exchange, for paper trading and for testing clients over real sockets.

>>> from tradewire.exchange import LocalExchange  # doctest: +SKIP
>>> async with LocalExchange(symbols=("BTCUSDT",)) as ex:  # doctest: +SKIP
...     print(ex.rest_url, ex.stream_url, ex.ws_api_url)
"""

from tradewire.exchange.server import LocalExchange
from tradewire.exchange.streams import StreamConfig

__all__ = ["LocalExchange", "StreamConfig"]

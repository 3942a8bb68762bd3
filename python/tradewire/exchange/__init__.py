"""A local Binance-compatible exchange, for paper trading and for testing clients over real sockets.

>>> import asyncio
>>> from tradewire.exchange import LocalExchange
>>> async def main() -> None:
...     async with LocalExchange(symbols=("BTCUSDT",)) as ex:
...         print(ex.rest_url, ex.stream_url, ex.ws_api_url)
>>> asyncio.run(main())  # doctest: +ELLIPSIS
http://127.0.0.1:... ws://127.0.0.1:... ws://127.0.0.1:.../ws-api/v3
"""

from tradewire.exchange.server import LocalExchange
from tradewire.exchange.streams import StreamConfig
from tradewire.exchange.wsapi import WsApiConfig

__all__ = ["LocalExchange", "StreamConfig", "WsApiConfig"]

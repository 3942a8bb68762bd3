"""The gateway's WebSocket (``/v1/api/ws``): smd, sor, str, spl, tic, ech+hb, system, sts, act."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.ibgateway.orders import Execution, GatewayOrder

__all__ = ["WsClient", "WsHub"]


@dataclass(eq=False)
class WsClient:
    """One WebSocket connection and what it subscribed to."""

    ws: web.WebSocketResponse
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    smd: dict[int, tuple[list[str], float]] = field(default_factory=dict)
    orders: bool = False
    trades: bool = False
    pnl: bool = False

    def send(self, message: dict[str, Any]) -> None:
        """Queue one JSON message for the writer."""
        self.queue.put_nowait(json.dumps(message, separators=(",", ":")))


class WsHub:
    """Every open WebSocket; the gateway pushes market, order, trade and P&L updates through it."""

    def __init__(
        self,
        *,
        gateway: Any,
        changed: Callable[[], None],
    ) -> None:
        self._gw = gateway
        self._changed = changed
        self.clients: set[WsClient] = set()
        self.sent = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one WebSocket connection from upgrade to close."""
        gw = self._gw
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client = WsClient(ws)
        writer = asyncio.create_task(self._writer(client))
        self.clients.add(client)
        self._changed()
        try:
            session_ok = gw.ws_session_ok(request)
            if not session_ok:
                client.send({"message": "waiting for session"})
            else:
                client.send(
                    {"topic": "system", "success": gw.username, "isFT": False, "isPaper": True}
                )
                client.send({"topic": "sts", "args": gw.sts_args()})
                client.send(
                    {
                        "topic": "act",
                        "args": {
                            "accounts": [gw.account_id],
                            "acctProps": {
                                gw.account_id: {"hasChildAccounts": False, "supportsCashQty": True}
                            },
                            "selectedAccount": gw.account_id,
                            "isPaper": True,
                            "serverInfo": {"serverName": "LocalIBGateway"},
                        },
                    }
                )
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                if session_ok:
                    self._on_text(client, message.data.strip())
        finally:
            self.clients.discard(client)
            client.queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._changed()
        return ws

    async def _writer(self, client: WsClient) -> None:
        while True:
            text = await client.queue.get()
            if text is None or client.ws.closed:
                return
            try:
                await client.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return
            self.sent += 1
            self._changed()

    def _on_text(self, client: WsClient, text: str) -> None:
        gw = self._gw
        if text == "tic":
            client.send(
                {
                    "topic": "tic",
                    "alive": True,
                    "id": gw.session.session_id,
                    "lastAccessed": gw.now_ms(),
                }
            )
            return
        if text.startswith("ech"):
            client.send({"topic": "ech+hb", "alive": True, "hb": gw.now_ms()})
            return
        topic, _, rest = text.partition("+")
        target, _, raw_args = rest.partition("+")
        if (
            topic in ("sor", "str", "spl", "uor", "utr", "upl")
            and raw_args == ""
            and target.startswith("{")
        ):
            raw_args, target = target, ""
        try:
            args = json.loads(raw_args) if raw_args else {}
        except json.JSONDecodeError:
            client.send({"topic": "error", "error": f"bad arguments: {raw_args!r}"})
            return
        if topic == "smd":
            conid = gw.conid_of(target)
            if conid is None:
                client.send({"topic": "error", "error": f"unknown conid {target!r}"})
                return
            fields = [str(f) for f in args.get("fields", [])] if isinstance(args, dict) else []
            client.smd[conid] = (fields, gw.loop_time() + gw.faults.smd_expiry_s)
            self._send_smd(client, conid, full=True)
        elif topic == "umd":
            conid = gw.conid_of(target)
            if conid is not None:
                client.smd.pop(conid, None)
        elif topic == "sor":
            client.orders = True
            client.send(
                {"topic": "sor", "args": [o.live_row() for o in gw.blotter.orders.values()]}
            )
        elif topic == "uor":
            client.orders = False
        elif topic == "str":
            client.trades = True
            rows = (
                [] if args.get("realtimeUpdatesOnly") else [e.row() for e in gw.blotter.executions]
            )
            client.send({"topic": "str", "args": rows})
        elif topic == "utr":
            client.trades = False
        elif topic == "spl":
            client.pnl = True
            client.send({"topic": "spl", "args": gw.pnl_rows()})
        elif topic == "upl":
            client.pnl = False
        else:
            client.send({"topic": "error", "error": f"unknown topic {topic!r}"})
        self._changed()

    def _send_smd(self, client: WsClient, conid: int, *, full: bool) -> None:
        gw = self._gw
        fields, _ = client.smd[conid]
        values = gw.market.fields(conid, gw.contracts[conid].symbol)
        quote = gw.market.quotes[conid]
        wanted = [f for f in fields if f in values] if fields else list(values)
        if not full:
            wanted = [f for f in wanted if f in quote.changed]
        message: dict[str, Any] = {
            "server_id": "q0",
            "conidEx": str(conid),
            "conid": conid,
            "_updated": quote.updated_ms or gw.now_ms(),
            "6119": "q0",
            **{f: values[f] for f in wanted},
            "topic": f"smd+{conid}",
        }
        if full:
            message["6509"] = "RpB"
        client.send(message)

    def market_moved(self, conids: list[int]) -> None:
        """Push the changed fields of the moved contracts; end expired ``smd`` subscriptions."""
        now = self._gw.loop_time()
        for client in self.clients:
            for conid in list(client.smd):
                if client.smd[conid][1] <= now:
                    del client.smd[conid]
                elif conid in conids:
                    self._send_smd(client, conid, full=False)
            if client.pnl and conids:
                client.send({"topic": "spl", "args": self._gw.pnl_rows()})

    def heartbeat(self) -> None:
        """The ``system`` heartbeat IB sends every 10 seconds."""
        for client in self.clients:
            client.send({"topic": "system", "hb": self._gw.now_ms()})

    def order_changed(self, order: GatewayOrder, delta: dict[str, Any]) -> None:
        """Push an order delta (only the changed fields plus orderId) to ``sor`` subscribers."""
        del order
        for client in self.clients:
            if client.orders:
                client.send({"topic": "sor", "args": [delta]})

    def executed(self, execution: Execution) -> None:
        """Push an execution to ``str`` subscribers."""
        row = execution.row()
        rows = [{**row, "commission": ""}, row] if self._gw.faults.late_commission else [row]
        for client in self.clients:
            if client.trades:
                for one in rows:
                    client.send({"topic": "str", "args": [one]})

    def push_sts(self) -> None:
        """Tell every client the session's state (after a competing login or a timeout)."""
        for client in self.clients:
            client.send({"topic": "sts", "args": self._gw.sts_args()})

    async def drop_all(self) -> int:
        """Close every WebSocket as a network drop would; returns how many were open."""
        clients = list(self.clients)
        for client in clients:
            await client.ws.close(code=1011, message=b"dropped")
        return len(clients)

"""Faults the gateway produces on demand: the failures IB's Web API users meet."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["IBFaults"]


@dataclass(slots=True)
class IBFaults:
    """The gateway's fault switches; change them with ``LocalIBGateway.set_faults``.

    Attributes:
        session_timeout_s: The brokerage session ends after this many seconds without a request
            (IB: about 6 minutes); ``/iserver`` then answers 400 ``Init session first``.
        logged_out: Nobody is logged in through the browser: every request gets 401, as the
            real gateway answers before its login page was used.
        competing: Another session of the user holds the brokerage session: auth status says
            ``competing``, ``sts`` is pushed, orders get the different-IP error, until
            ``ssodh/init`` with ``compete``.
        outage: The nightly ``/iserver`` outage: 503 on every ``/iserver`` route.
        outage_minutes: How long the automatic outage after midnight New York lasts.
        rate_limit_per_s: Requests a second before a 429 (None: no limit, the default, so a
            test's quick calls never trip it); IB's gateway allows 10.
        penalty_box_s: After a 429 every request gets 429 for this long (IB: 10-15 minutes).
        reject_orders: The next N placements are rejected with HTTP 200 ``{"error": ...}``.
        inactive_orders: The next N placements end ``Inactive``.
        drop_order_replies: The next N accepted placements are kept but their answer is lost:
            the connection closes before the reply (the client must reconcile by cOID).
        stale_replies: Every ``/iserver/reply`` answers 400 ``reply id not found``.
        fill_on_cancel: A cancelled order fills while ``PendingCancel`` (then ``Filled``).
        late_commission: ``str`` reports each execution without its commission first, then
            again with it (IB sends commissions after the execution at times).
        smd_expiry_s: ``smd`` subscriptions end after this many seconds (IB: 15 minutes).
        heartbeat_s: Seconds between ``system`` heartbeats on the WebSocket (IB: 10).
    """

    session_timeout_s: float = 360.0
    logged_out: bool = False
    competing: bool = False
    outage: bool = False
    outage_minutes: float = 5.0
    rate_limit_per_s: float | None = None
    penalty_box_s: float = 900.0
    reject_orders: int = 0
    inactive_orders: int = 0
    drop_order_replies: int = 0
    stale_replies: bool = False
    fill_on_cancel: bool = False
    late_commission: bool = False
    smd_expiry_s: float = 900.0
    heartbeat_s: float = 10.0

    def update(self, **changes: object) -> None:
        """Set the named switches (ValueError on an unknown name)."""
        known = {f.name for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {sorted(known)}")
            setattr(self, name, value)

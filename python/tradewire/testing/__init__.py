"""Helpers for tests, benchmarks and demos, usable in your own tests too.

- :func:`eventually` / :func:`wait_until`: wait for a condition, not for a time.
- ``tradewire.testing.local_exchange``: keys on a running ``LocalExchange`` (:class:`LocalKey`,
  :func:`add_local_key`), with a client on its URLs and signed reads of what it holds.
- ``tradewire.testing.command``: the ``tradewire`` command in a subprocess with a home of its
  own (:class:`TradewireCommand`).
- ``tradewire.testing.synthetic``: a seeded synthetic order book and its depth stream.

The submodules are imported on demand, so ``import tradewire.testing`` stays light.
"""

from tradewire.testing.waiting import eventually, wait_until

__all__ = ["eventually", "wait_until"]

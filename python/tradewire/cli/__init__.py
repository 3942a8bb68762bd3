"""The ``tradewire`` command: the only package that wires clients, venues, bots and keys.

Each subcommand has a module (``paper``, ``live``, ``keys``, ``doctor``, ``exchange``,
``replay``); :mod:`tradewire.cli.session` builds what paper and live runs share.
"""

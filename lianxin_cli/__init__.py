"""The ``lianxin`` command: the shell on top that wires every part's commands together.

The layers, bottom to top: ``lianxin`` (the protocol, keys, store, domain data and the client),
then ``gateway``, ``desk`` and ``publisher`` (each importing only ``lianxin``), then this package,
which imports them all and is imported by none.
"""

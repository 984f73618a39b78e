"""Linked offices (issue 15): office cards, the directory of parent and child offices, and the
packages they exchange (``lianxin/package/v1``). Level 0: the gateway, the desk and the
publisher all use it."""

"""``lianxin demo``: the whole path on one machine, through the real protocol and processes."""

"""Lianxin: a transparency portal and signed-submission gateway for report offices."""

__version__ = "0.1.0"

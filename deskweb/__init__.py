"""The office desk in the browser: server-rendered pages over the ``desk`` library.

Every page calls the same desk functions as ``lianxin desk`` (``list_cases``, ``show_case``,
``add_note``, ``conclude``, ``route``, ``compute_warnings``); this package only signs officers
in, renders and translates. ``desk`` never imports it.
"""

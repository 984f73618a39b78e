"""Domain data shared by the gateway, the desk and the publisher: the versioned lists (problem
types, ranks, regions, units, outcomes), deadline policies and the working-day calendar.

It sits beneath every part that uses it and imports none of them.
"""

"""Engine profiles: one frozen profile per engine version, each fact cited (path:line@commit).

Everything gaudi-vl knows about what a given engine reads and does (variables and their defaults,
bucket parsing, lookup and padding, the warm-up set, the vision attention's memory, the memory split,
log line formats, install hints) lives in this package and nowhere else.
"""

"""Benchmarks and scripts people run by hand (never imported by the package).

Every number quoted from them lives in BENCHMARKS.md with the command and the machine.
"""

"""Load and authentication benchmarks, run as scripts (``make bench``, ``make bench-auth``).

A package only so that import-linter can check what they import: the product through
its public edges alone (``.importlinter``).
"""

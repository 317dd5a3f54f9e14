"""The shared kernel: money, identifiers, errors, settings, persistence and HTTP plumbing.

The pure parts (``money``, ``ids``, ``errors``, ``events``, ``access``, ``clock``) may be
imported by any domain model; the rest are infrastructure used by adapters and edges.
"""

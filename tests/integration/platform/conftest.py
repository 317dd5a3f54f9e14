"""The broker tests' fixtures (``tests.support.broker``), shared by their modules."""

from tests.support.broker import broker_names, broker_url, effects_table

__all__ = ["broker_names", "broker_url", "effects_table"]

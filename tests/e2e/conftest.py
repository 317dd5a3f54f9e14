"""The broker fixtures (``tests.support.broker``) for the end-to-end tests of the worker."""

from tests.support.broker import broker_names, broker_url

__all__ = ["broker_names", "broker_url"]

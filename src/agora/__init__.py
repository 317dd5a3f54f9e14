"""Agora: an open-source commerce platform."""

__version__ = "0.1.0"

"""Test helpers shared across the suite (fixtures are registered in tests/conftest.py)."""

"""SQLAlchemy tables owned by the catalog context."""

from __future__ import annotations

"""SQLAlchemy tables owned by the ordering context."""

from __future__ import annotations

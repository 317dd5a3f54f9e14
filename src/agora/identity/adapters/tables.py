"""SQLAlchemy tables owned by the identity context."""

from __future__ import annotations

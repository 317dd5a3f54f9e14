"""SQLAlchemy tables owned by the payments context."""

from __future__ import annotations

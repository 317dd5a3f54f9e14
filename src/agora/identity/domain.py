"""domain of the identity context."""

from __future__ import annotations

"""REST routes of the catalog context: parse, call a service, render. No SQL, no policy."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()

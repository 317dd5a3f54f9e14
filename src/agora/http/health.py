"""Liveness (the process answers) and readiness (every configured dependency answers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import registry
from agora.platform.health_checks import HealthChecks

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", summary="Liveness: the process is up")
async def live() -> Response:
    return envelope.ok({"status": "ok"})


@router.get(
    "/ready",
    summary="Readiness: every configured dependency answers",
    description=(
        "`checks` has one entry per configured dependency, each `ok`, `unavailable` "
        "(503: not ready) or `degraded`: the broker or the mail server is down, and the "
        "instance is still ready (orders are taken; their events wait in the outbox and "
        "their mail in its queue). `degraded` then names them and `status` is "
        "`degraded`. `warnings` lists development parts this instance runs by explicit "
        "choice (for example the test payment provider in production), each by its "
        "`code` (the start-up log says more); empty normally."
    ),
    responses={503: {"description": "A dependency is unavailable; the body names it."}},
)
async def ready(request: Request) -> Response:
    health = registry(request).get(HealthChecks)
    results = await health.run()
    checks = {r.name: r.as_dict() for r in results}
    warnings = health.warnings_out()
    failing = sorted(r.name for r in results if health.blocks_readiness(r))
    degraded = sorted(r.name for r in results if not r.ok and r.name not in failing)
    if failing:
        return envelope.error(
            503,
            "SERVICE_UNAVAILABLE",
            "Not ready: " + ", ".join(failing) + " unavailable.",
            {"failing": failing, "checks": checks, "warnings": warnings},
            headers={"Retry-After": "5"},
        )
    status = "degraded" if degraded else "ok"
    body = {"status": status, "checks": checks, "warnings": warnings, "degraded": degraded}
    return envelope.ok(body)

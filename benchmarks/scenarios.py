"""The scenarios of ``make bench``: what each one sends, in which order they run, and
which ones are profiled.

The bare endpoint's product list comes first (the limit every other scenario is
compared with), then Agora's list, detail and search, then checkout at each of
``--checkout-connections``.
"""

from __future__ import annotations

import argparse
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import orjson

import load
from measure import Measurement
from prepare import Prepared
from servers import ServerProcess
from stack import Clock

LIST_PATH = "/api/v1/products?page_size=20"


def write_request_files(logs: Path, ready: Prepared) -> dict[str, Path]:
    """One request file per kind of scenario (list, detail, search, checkout)."""
    files = {key: logs / f"{key}.requests" for key in ("list", "detail", "search", "checkout")}
    load.write_requests(files["list"], [load.RequestSpec("GET", LIST_PATH)])
    load.write_requests(
        files["detail"],
        [load.RequestSpec("GET", f"/api/v1/products/{pid}") for pid in ready.product_ids],
    )
    load.write_requests(
        files["search"],
        [
            load.RequestSpec(
                "GET", f"/api/v1/products?q={urllib.parse.quote_plus(term)}&page_size=20"
            )
            for term in ready.search_terms
        ],
    )
    body = orjson.dumps(
        {
            "payment_token": "tok_success",
            "items": [{"product_id": ready.checkout_product_id, "quantity": 1}],
        }
    ).decode()
    load.write_requests(
        files["checkout"],
        [load.RequestSpec("POST", "/api/v1/orders", c.token, body) for c in ready.customers],
    )
    return files


def run_scenarios(
    measure: Measurement,
    args: argparse.Namespace,
    agora: ServerProcess,
    bare: ServerProcess,
    files: dict[str, Path],
) -> None:
    """Every scenario in turn; each entry gets its ratio to the bare endpoint's rate."""
    c = args.connections
    bare_result = measure.scenario(
        "bare", "bare ASGI + asyncpg: product list", bare, files["list"], c
    )
    measure.scenario("list", "product list", agora, files["list"], c)
    measure.scenario("detail", "product detail", agora, files["detail"], c)
    measure.scenario("search", "search", agora, files["search"], c)
    for n in args.checkout_connections:
        measure.scenario(
            f"checkout-{n}",
            f"checkout ({n} connections)",
            agora,
            files["checkout"],
            n,
            is_checkout=True,
        )
    for s in measure.scenarios:
        s["ratio_to_bare"] = (
            round(s["requests_per_s"] / bare_result["requests_per_s"], 3)
            if bare_result["requests_per_s"]
            else None
        )


def profile_scenarios(
    measure: Measurement, agora: ServerProcess, files: dict[str, Path]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Profiles of the slowest scenario and of the product list (None when skipped)."""
    if measure.args.profile_seconds <= 0:
        return None, None
    measured = [s for s in measure.scenarios if s["key"] != "bare"]
    slowest = min(measured, key=lambda s: s["requests_per_s"])
    file = files["checkout" if slowest["key"].startswith("checkout") else slowest["key"]]
    profile = measure.profile(agora, slowest, file)
    # The list carries the ratio target: show where its time goes as well.
    listing = next(s for s in measure.scenarios if s["key"] == "list")
    list_profile = None
    if slowest is not listing:
        list_profile = measure.profile(agora, listing, files["list"])
    return profile, list_profile


def check_same_rows(clock: Clock, agora: ServerProcess, bare: ServerProcess) -> bool:
    """The bare endpoint must return the very page Agora returns, or the ratio is moot."""
    mine = httpx.get(agora.base_url + LIST_PATH, timeout=30).json()
    theirs = httpx.get(bare.base_url + LIST_PATH, timeout=30).json()
    same_ids = [p["id"] for p in mine["data"]] == [p["id"] for p in theirs["data"]]
    same_fields = mine["data"][:1] == theirs["data"][:1]
    same_total = mine["meta"].get("pagination") == theirs["meta"].get("pagination")
    if not (same_ids and same_fields and same_total):
        clock.say(
            "WARNING: the bare endpoint's page differs from Agora's "
            f"(ids {same_ids}, fields {same_fields}, pagination {same_total})"
        )
    return same_ids and same_fields and same_total

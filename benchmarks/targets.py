"""The targets of the benchmark (issue text), evaluated against one run's numbers."""

from __future__ import annotations

from typing import Any

LIST_RATIO_TARGET = 0.60
READ_P95_MS = 50.0
SEARCH_P90_MS = 50.0
CHECKOUT_ORDERS_PER_S = 300.0
CHECKOUT_P95_MS = 100.0
WORKER_RSS_MB = 200.0


def scenario(results: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The scenario entry with this key, if the run has one."""
    return next((s for s in results["scenarios"] if s["key"] == key), None)


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    listing = scenario(results, "list")
    if listing and listing.get("ratio_to_bare") is not None:
        ratio = listing["ratio_to_bare"]
        targets.append(
            {
                "target": f"product list >= {LIST_RATIO_TARGET:.0%} of the bare limit",
                "measured": f"{ratio:.0%}",
                "met": ratio >= LIST_RATIO_TARGET,
            }
        )
    reads = [s for s in (listing, scenario(results, "detail")) if s]
    if reads:
        worst = max(reads, key=lambda s: s["latency_ms"]["95"])
        targets.append(
            {
                "target": f"reads (list, detail) p95 < {READ_P95_MS:.0f} ms",
                "measured": ", ".join(f"{s['name']} {s['latency_ms']['95']:.1f} ms" for s in reads),
                "met": worst["latency_ms"]["95"] < READ_P95_MS,
            }
        )
    search = scenario(results, "search")
    if search:
        targets.append(
            {
                "target": f"search p90 < {SEARCH_P90_MS:.0f} ms",
                "measured": f"{search['latency_ms']['90']:.1f} ms",
                "met": search["latency_ms"]["90"] < SEARCH_P90_MS,
            }
        )
    checkouts = [s for s in results["scenarios"] if s["key"].startswith("checkout")]
    if checkouts:
        points = [
            f"{s['orders_per_s']:.0f} orders/s at p95 {s['latency_ms']['95']:.0f} ms "
            f"({s['connections']} connections)"
            for s in checkouts
        ]
        met = any(
            s["orders_per_s"] >= CHECKOUT_ORDERS_PER_S and s["latency_ms"]["95"] < CHECKOUT_P95_MS
            for s in checkouts
        )
        targets.append(
            {
                "target": f"checkout >= {CHECKOUT_ORDERS_PER_S:.0f} orders/s "
                f"at p95 < {CHECKOUT_P95_MS:.0f} ms",
                "measured": "; ".join(points),
                "met": met,
            }
        )
    audit = results.get("checkout_audit")
    if audit:
        verified = audit.get("verified", False)
        targets.append(
            {
                "target": "zero oversells",
                "measured": (
                    f"{audit['oversells']} oversold, {audit['units_unaccounted']} unaccounted"
                    if verified
                    else audit.get("problem", "not verified")
                ),
                "met": bool(verified and audit["consistent"] and audit["oversells"] == 0),
            }
        )
    memory = results.get("memory", {})
    if memory.get("max_rss_mb") is not None:
        targets.append(
            {
                "target": f"worker RSS < {WORKER_RSS_MB:.0f} MB",
                "measured": f"{memory['max_rss_mb']:.0f} MB (peak under load)",
                "met": memory["max_rss_mb"] < WORKER_RSS_MB,
            }
        )
    return targets

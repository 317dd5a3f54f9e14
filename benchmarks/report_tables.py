"""The tables of the generated results section: throughput and latency, CPU, database
sessions, profiles, memory and the checkout stock audit (markdown lines)."""

from __future__ import annotations

from typing import Any


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def results_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| scenario | requests/s | p50 ms | p90 ms | p95 ms | p99 ms | errors | vs bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in results["scenarios"]:
        latency = s["latency_ms"]
        ratio = s.get("ratio_to_bare")
        ratio_text = "1.00 (limit)" if s["key"] == "bare" else (f"{ratio:.2f}" if ratio else "-")
        rate = f"{s['requests_per_s']:,.0f}"
        if s["key"].startswith("checkout"):
            rate += f" ({s['orders_per_s']:,.0f} orders/s)"
        lines.append(
            f"| {s['name']} | {rate} | {_ms(latency['50'])} | {_ms(latency['90'])} | "
            f"{_ms(latency['95'])} | {_ms(latency['99'])} | {s['errors']} | {ratio_text} |"
        )
    return lines


def cpu_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| scenario | app workers | PostgreSQL | load generator | other | idle |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in results["scenarios"]:
        cpu = s.get("cpu_percent") or {}
        if not cpu:
            continue
        lines.append(
            f"| {s['name']} | {cpu['app_workers']:.0f}% | {cpu['postgresql']:.0f}% | "
            f"{cpu['load_generator']:.0f}% | {cpu['other']:.0f}% | {cpu['idle']:.0f}% |"
        )
    return lines


def database_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| scenario | sessions (max) | running a query | waiting for a lock | "
        "idle in transaction | connections opened |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in results["scenarios"]:
        activity = s.get("db_activity")
        if not activity:
            continue
        lines.append(
            f"| {s['name']} | {activity['connections_max']} | {activity['active_avg']:.1f} | "
            f"{activity['lock_waits_avg']:.1f} | {activity['idle_in_transaction_avg']:.1f} | "
            f"{s.get('db_connections_opened', 0):,} |"
        )
    return lines


def profile_lines(profile: dict[str, Any] | None, *, brief: bool = False) -> list[str]:
    if not profile:
        return ["No profile was taken in this run."]
    if profile.get("problem"):
        return [f"No profile: {profile['problem']}."]
    summary = profile["summary"]
    lines = [
        f"py-spy sampled one worker at 200 Hz for {profile['seconds']} s during extra load of "
        f"**{profile['scenario']}** ({summary['samples']:,} samples, idle time excluded). "
        "Share of samples by where the CPU was (the innermost frame):",
        "",
        "| where | share |",
        "|---|---:|",
    ]
    lines += [f"| {row['name']} | {row['percent']:.1f}% |" for row in summary["by_component"][:10]]
    if summary.get("activities"):
        lines += ["", "| activity (including what it calls) | share |", "|---|---:|"]
        lines += [f"| {row['name']} | {row['percent']:.1f}% |" for row in summary["activities"]]
    if brief:
        lines += ["", "| hottest functions (self time) | share |", "|---|---:|"]
        lines += [f"| `{row['name']}` | {row['percent']:.1f}% |" for row in summary["top_self"][:8]]
        return lines
    lines += [
        "",
        "Hottest functions (self time):",
        "",
        "| function | share |",
        "|---|---:|",
    ]
    lines += [f"| `{row['name']}` | {row['percent']:.1f}% |" for row in summary["top_self"][:12]]
    if summary.get("agora_inclusive"):
        lines += [
            "",
            "Agora's own functions, including what they call:",
            "",
            "| function | share |",
            "|---|---:|",
        ]
        lines += [
            f"| `{row['name']}` | {row['percent']:.1f}% |"
            for row in summary["agora_inclusive"][:12]
        ]
    return lines


def audit_lines(audit: dict[str, Any]) -> list[str]:
    if not audit.get("verified"):
        return [audit.get("problem", "No checkout audit in this run.")]
    statuses = ", ".join(
        f"{status} {v['orders']:,}" for status, v in audit["orders_by_status"].items()
    )
    return [
        f"The checkout product's stock went from {audit['stock_before']:,} to "
        f"{audit['stock_after']:,} ({audit['stock_moved']:,} units); the orders holding "
        f"stock contain {audit['units_held_by_orders']:,} units (orders by status: "
        f"{statuses}). Clients received {audit.get('created_responses', 0):,} "
        "`201 Created` answers; an order still in flight when a run's clock stopped is "
        "completed by the server without a client to read the answer. Oversold units: "
        f"**{audit['oversells']}**; units that left stock without an order: "
        f"{audit['units_unaccounted']}; products with negative stock: "
        f"{audit['products_with_negative_stock']}.",
    ]


def memory_lines(memory: dict[str, Any]) -> list[str]:
    if not memory.get("workers"):
        return ["No worker memory was sampled in this run."]
    lines = [
        "Resident set size of each `agora serve` worker: when ready, after the set-up "
        "(registrations and logins through the API), its peak while sampled every 0.25 s "
        "during every scenario, and after the last:",
        "",
        "| worker | ready | after set-up | peak under load | after load |",
        "|---|---:|---:|---:|---:|",
    ]
    for index, worker in enumerate(memory["workers"], start=1):
        lines.append(
            f"| {index} | {worker.get('started_mb', 0):.0f} MB | "
            f"{worker.get('prepared_mb', 0):.0f} MB | {worker['peak_mb']:.0f} MB | "
            f"{worker['after_mb']:.0f} MB |"
        )
    if memory.get("bare_max_rss_mb"):
        lines += [
            "",
            f"For scale: the bare endpoint's workers peaked at {memory['bare_max_rss_mb']:.0f} MB.",
        ]
    return lines

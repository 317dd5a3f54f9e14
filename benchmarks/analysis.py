"""What holds it back: observations that follow from one run's numbers (markdown bullets).

No judgement beyond the numbers: each note says what was measured and what it implies.
"""

from __future__ import annotations

from typing import Any

from targets import scenario


def _list_notes(results: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    bare = scenario(results, "bare")
    listing = scenario(results, "list")
    if bare and listing and bare.get("cpu_percent") and listing.get("cpu_percent"):
        b, a = bare["cpu_percent"], listing["cpu_percent"]
        notes.append(
            f"- Product list: {listing['requests_per_s']:,.0f} requests/s against "
            f"{bare['requests_per_s']:,.0f} for the bare endpoint running the same SQL "
            f"({listing.get('ratio_to_bare', 0):.0%}). During the bare run PostgreSQL used "
            f"{b['postgresql']:.0f}% of the machine and the workers {b['app_workers']:.0f}%; "
            f"during Agora's, PostgreSQL {a['postgresql']:.0f}% and the workers "
            f"{a['app_workers']:.0f}%."
        )
        sql = results.get("list_sql_ms") or {}
        ttl = results["config"].get("list_total_cache_seconds") or 0
        if sql and ttl:
            notes.append(
                f"- The exact `count(*)` behind `meta.pagination.total` takes "
                f"{sql['count']:.1f} ms in PostgreSQL alone (it visits every published "
                f"product), the 20-row page {sql['page']:.2f} ms. Agora and the bare endpoint "
                f"both keep a counted total for {ttl:.0f} s per worker, so the count runs "
                "about once per that time and the page query is the per-request database work."
            )
        elif sql and sql["count"] > 5 * sql["page"]:
            ceiling = machine_cores(results) * 1000 / (sql["page"] + sql["count"])
            note = (
                f"- PostgreSQL alone needs {sql['page']:.2f} ms for the 20-row page and "
                f"{sql['count']:.2f} ms for the exact `count(*)` behind "
                "`meta.pagination.total`, which visits every published product: with "
                f"{machine_cores(results)} cores, at most about {ceiling:,.0f} list "
                "requests/s before any Python runs."
            )
            if bare["requests_per_s"] >= 0.5 * ceiling:
                note += (
                    " The bare endpoint runs close to that, so the count, not the framework, "
                    "sets the ceiling for both; an estimated or cached total would lift it."
                )
            notes.append(note)
    return notes


def _cpu_notes(results: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    for s in results["scenarios"]:
        if s["key"] in ("bare", "list"):
            continue
        cpu = s.get("cpu_percent")
        if not cpu:
            continue
        heaviest = max(("app_workers", "postgresql", "load_generator"), key=lambda k: cpu[k])
        label = {
            "app_workers": "the app workers (Python)",
            "postgresql": "PostgreSQL",
            "load_generator": "the load generator",
        }[heaviest]
        notes.append(
            f"- {s['name'][0].upper()}{s['name'][1:]}: {s['requests_per_s']:,.0f} "
            "requests/s; the largest CPU user was "
            f"{label} at {cpu[heaviest]:.0f}% of the machine "
            f"(workers {cpu['app_workers']:.0f}%, PostgreSQL {cpu['postgresql']:.0f}%, "
            f"idle {cpu['idle']:.0f}%)."
        )
    return notes


def _database_notes(results: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    checkouts = [s for s in results["scenarios"] if s["key"].startswith("checkout")]
    waits = [
        (s, s["db_activity"])
        for s in checkouts
        if (s.get("db_activity") or {}).get("lock_waits_avg", 0) >= 1
    ]
    if waits:
        points = "; ".join(
            f"{a['lock_waits_avg']:.1f} of {a['active_avg']:.1f} busy sessions waiting for a "
            f"lock and {a['idle_in_transaction_avg']:.1f} idle in a transaction at "
            f"{s['connections']} connections"
            for s, a in waits
        )
        notes.append(
            f"- Checkout waits on a lock: {points} (averages). Every order here takes stock "
            "from the same product, so reservations queue on that product's row lock, which "
            "is held until the reserving transaction commits; a transaction whose worker is "
            "busy with other requests between two of its statements keeps the lock meanwhile."
        )
    if len(checkouts) > 1:
        by_connections = sorted(checkouts, key=lambda s: s["connections"])
        low, high = by_connections[0], by_connections[-1]
        if high["orders_per_s"] < 0.9 * low["orders_per_s"]:
            notes.append(
                f"- Checkout throughput falls as concurrency rises: {low['orders_per_s']:,.0f} "
                f"orders/s at {low['connections']} connections, {high['orders_per_s']:,.0f} at "
                f"{high['connections']}; more requests in flight add waiting, not work."
            )
    reads = [
        s
        for s in results["scenarios"]
        if s["key"] in ("list", "detail", "search")
        and (s.get("db_activity") or {}).get("idle_in_transaction_avg", 0) >= 1
    ]
    if reads:
        worst = max(reads, key=lambda s: s["db_activity"]["idle_in_transaction_avg"])
        notes.append(
            f"- Reads keep transactions open between their statements too: on average "
            f"{worst['db_activity']['idle_in_transaction_avg']:.1f} sessions were idle in a "
            f"transaction during {worst['name']}, against "
            f"{worst['db_activity']['active_avg']:.1f} running a query. A request holds its "
            "connection, inside a transaction, for as long as its worker takes to come back "
            "to it, which is what drives the pools past their size."
        )
    churn = [
        s for s in results["scenarios"] if s["key"] != "bare" and s.get("db_connections_opened")
    ]
    if churn:
        worst = max(churn, key=lambda s: s["db_connections_opened"])
        notes.append(
            f"- Database connections were opened under load ({worst['db_connections_opened']:,} "
            f"during {worst['name']}, {worst['duration_s']:.0f} s): with more requests in "
            "flight per worker than the pool keeps open, SQLAlchemy opens overflow "
            "connections and closes them on return, and every one costs a PostgreSQL "
            "backend start and an authentication round trip."
        )
    return notes


def _other_notes(results: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    profile = results.get("profile") or {}
    summary = profile.get("summary") or {}
    if summary.get("by_component"):
        top = ", ".join(
            f"{row['name']} {row['percent']:.0f}%" for row in summary["by_component"][:5]
        )
        notes.append(f"- In the profile of {profile['scenario']}, the CPU went to: {top}.")
    list_summary = (results.get("list_profile") or {}).get("summary") or {}
    if list_summary.get("by_component"):
        top = ", ".join(
            f"{row['name']} {row['percent']:.0f}%" for row in list_summary["by_component"][:5]
        )
        notes.append(f"- In the profile of the product list: {top}.")
    for name, found in ((profile.get("scenario"), summary), ("product list", list_summary)):
        named = [a for a in found.get("activities", []) if a["percent"] >= 3]
        if name and named:
            notes.append(
                f"- Activities in the profile of {name} (share of samples, each including "
                "what it calls): "
                + ", ".join(f"{a['name']} {a['percent']:.0f}%" for a in named)
                + "."
            )
    measured = [s for s in results["scenarios"] if s.get("cpu_percent")]
    if measured:
        busiest = max(measured, key=lambda s: s["cpu_percent"]["other"])
        cpu = busiest["cpu_percent"]
        if cpu["other"] > 10:
            named = ", ".join(f"{k} {v:.0f}%" for k, v in (cpu.get("other_top") or {}).items())
            notes.append(
                f"- Work outside the server, the database and the load generator took up to "
                f"{cpu['other']:.0f}% of the machine (during {busiest['name']}"
                + (f"; largest: {named}" if named else "")
                + "), so absolute numbers are lower than on an otherwise idle machine; the "
                "ratios, measured side by side, suffer less."
            )
    return notes


def _memory_notes(results: dict[str, Any]) -> list[str]:
    workers = (results.get("memory") or {}).get("workers") or []
    if not workers or not all(w.get("started_mb") for w in workers):
        return []
    started = max(w["started_mb"] for w in workers)
    setup = max(w["prepared_mb"] - w["started_mb"] for w in workers)
    load = max(w["peak_mb"] - w["prepared_mb"] for w in workers)
    bare = (results.get("memory") or {}).get("bare_max_rss_mb")
    note = (
        f"- Memory: a worker is at up to {started:.0f} MB when it starts answering"
        + (f" (the bare endpoint's: {bare:.0f} MB)" if bare else "")
        + f"; the set-up's registrations and logins (argon2id hashes, "
        f"{results['config']['customers']} of each) added up to {setup:.0f} MB, which the "
        f"worker keeps; all the load after that added up to {load:.0f} MB."
    )
    return [note]


def analysis(results: dict[str, Any]) -> list[str]:
    """Observations that follow from this run's numbers (no judgement beyond them)."""
    return [
        *_list_notes(results),
        *_cpu_notes(results),
        *_database_notes(results),
        *_memory_notes(results),
        *_other_notes(results),
    ]


def machine_cores(results: dict[str, Any]) -> int:
    return int(results["machine"].get("cpus") or 1)

"""Benchmarks, run by hand: `python -m bench.run` (see --help). Prints a table and writes it
to bench/results/latest.md with the machine and versions at the top."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.databases import discard, fresh_db

RESULTS = Path(__file__).parent / "results"


def header() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return [
        f"- machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, SQLAlchemy {version('SQLAlchemy')}, "
        f"python-telegram-bot {version('python-telegram-bot')}, "
        f"aiosqlite {version('aiosqlite')}, asyncpg {version('asyncpg')}",
    ]


async def main(args: argparse.Namespace) -> list[str]:
    from bench import data, delivery, memory

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "# Benchmarks",
        "",
        *header(),
        f"- command: `python -m bench.run {args.raw}`",
        f"- machine load at the start (1, 5, 15 minutes): {load}",
        "",
    ]
    databases = [("SQLite", None)] + ([("PostgreSQL", args.pg)] if args.pg else [])

    if "conversations" in args.only:
        lines += await conversations(args, databases)
    if "http" in args.only:
        lines += await over_http(args, databases)

    if "rollups" in args.only:
        lines += [
            "## Roll-ups at scale",
            "",
            f"{args.communes} communes × {args.hamlets} hamlets; {args.per_year:,} "
            "incidents, activities and tips a year (the last sixty days' cases partly open), "
            "every hamlet's weekly report every week, its commitment and model figures "
            "every quarter; one year (with last year's quarter) and ten, both built first, "
            "then timed in turns (the median of nine each).",
            "",
            "| database | years | rows | load s | weekly digest ms | quarterly "
            "criteria ms | province quarter ms |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, url in databases:
            built = []
            for years in (1, 10):
                engine, sessions = await fresh_db(url, f"bench_{years}y")
                rows, seconds = await data.build_province(
                    engine, args.communes, args.hamlets, years, args.per_year
                )
                if url:
                    async with engine.begin() as conn:
                        await conn.execute(text("ANALYZE"))
                built.append((years, engine, sessions, rows, seconds))
            timings = await data.time_queries([sessions for _, _, sessions, _, _ in built])
            for (years, engine, _, rows, seconds), timing in zip(built, timings, strict=True):
                await discard(engine, f"bench_{years}y")
                lines.append(
                    f"| {name} | {years} | {rows:,} | {seconds:.0f} | "
                    f"{timing['digest_ms']:.1f} | {timing['criteria_ms']:.1f} | "
                    f"{timing['province_ms']:.1f} |"
                )
                print(lines[-1], flush=True)
        lines.append("")

    if "desk" in args.only:
        from bench import desk

        lines += [
            "## Web desk pages",
            "",
            f"One commune's officer, in a province of {args.communes} communes × "
            f"{args.hamlets} hamlets and {args.per_year:,} reports a year; median ms of nine, "
            "through the ASGI app in-process.",
            "",
            "| database | page | ms |",
            "|---|---|---|",
        ]
        for name, url in databases:
            engine, sessions = await fresh_db(url, "bench_desk")
            await data.build_province(engine, args.communes, args.hamlets, 1, args.per_year)
            if url:
                async with engine.begin() as conn:
                    await conn.execute(text("ANALYZE"))
            for page, ms in (await desk.time_pages(sessions)).items():
                lines.append(f"| {name} | `{page}` | {ms:.0f} |")
                print(lines[-1], flush=True)
            await discard(engine, "bench_desk")
        lines.append("")

    if "delivery" in args.only:
        lines += [
            "## Delivery",
            "",
            f"{args.messages:,} outbox messages to as many chats, against a loopback Bot API in "
            "a process of its own enforcing 30/s overall and 1/s per chat where messages "
            "arrive; then with a random 20-200 ms latency each way.",
            "",
            "| latency | messages | seconds | minimum s | over minimum | 429s (of sends) | "
            "duplicates | delivered |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for latency in (False, True):
            engine, sessions = await fresh_db(None)
            result = await delivery.deliver(sessions, args.messages, latency=latency)
            await discard(engine)
            lines.append(
                f"| {'20-200 ms' if latency else 'none'} | {result['messages']:,} | "
                f"{result['seconds']:.1f} | {result['minimum_s']:.1f} | "
                f"{result['over_minimum_pct']:.1f}% | {result['429s']} "
                f"({result['429_pct']:.2f}%) | {result['duplicates']} | {result['delivered']:,} |"
            )
            print(lines[-1], flush=True)
        lines.append("")

    if "workers" in args.only:
        lines += await workers(args)
    if "memory" in args.only:
        idle = memory.idle_run_mb()
        polling = memory.idle_run_mb(telegram=True)
        flight = memory.in_flight_fresh(args.in_flight)
        lines += [
            "## Memory",
            "",
            "| measure | value |",
            "|---|---|",
            f"| `binhyen run` idle (console, demo on SQLite, scheduler, outbox, web desk "
            f"listening) | {idle:.0f} MB |",
            f"| `binhyen run` idle (Telegram long polling a loopback Bot API, demo on SQLite, "
            f"scheduler, outbox, web desk listening) | {polling:.0f} MB |",
            f"| new process, before {flight['conversations']:,} conversations in flight | "
            f"{flight['rss_before_mb']:.0f} MB |",
            f"| after | {flight['rss_after_mb']:.0f} MB "
            f"({flight['per_1000_kb']:.0f} KB per 1,000) |",
            "",
        ]
        print("\n".join(lines[-6:]), flush=True)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return [*lines, f"Machine load at the end (1, 5, 15 minutes): {load}", ""]


async def workers(args: argparse.Namespace) -> list[str]:
    if not args.pg:
        print("workers: skipped, it needs PostgreSQL (--pg or TEST_DATABASE_URL)", flush=True)
        return ["## Two workers on PostgreSQL", "", "Skipped: no --pg given.", ""]
    from bench import workers
    from bench.loopback import LATENCY_S

    low, high = (round(x * 1000) for x in LATENCY_S)
    steps = args.worker_steps
    lines = [
        "## Two workers on PostgreSQL",
        "",
        f"`binhyen run --workers N` as child processes, long polling a loopback Bot API in a "
        f"process of its own that holds a backlog of {args.worker_chats * steps:,} updates "
        f"({args.worker_chats} chats × the incident flow's first {steps} steps: /start, the "
        "menu, ...); a fresh PostgreSQL schema each run. Updates answered per second from the "
        "first getUpdates that carries updates to the last reply; CPU seconds spent meanwhile "
        "by each part (other: whatever else the machine ran), and the machine's share busy. "
        "One worker and two in turns (1, 2, 2, 1); the ratio is to one worker's mean.",
        "",
        "| Bot API latency | workers | updates | seconds | updates/s | ratio to one | "
        "CPU s: binhyen (first process + the others) / PostgreSQL / loopback / driver / other "
        "| machine busy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for latency in args.worker_latency:
        runs = await workers.compare(
            args.pg, args.worker_chats, steps, latency=latency == "yes", rounds=args.worker_rounds
        )
        mean = {n: statistics.mean(r["per_s"] for r in runs if r["workers"] == n) for n in (1, 2)}
        for r in runs:
            cpu = r["cpu_s"]
            first, others = cpu.get("binhyen", 0.0), cpu.get("binhyen workers", 0.0)
            parts = f"{first + others:.1f} ({first:.1f} + {others:.1f}) / " + " / ".join(
                f"{cpu.get(k, 0.0):.1f}"
                for k in ("PostgreSQL", "Bot API loopback", "driver", "other")
            )
            lines.append(
                f"| {f'{low}-{high} ms each way' if latency == 'yes' else 'none'} | "
                f"{r['workers']} | {r['updates']:,} | {r['seconds']:.1f} | {r['per_s']:.0f} | "
                f"{r['per_s'] / mean[1]:.2f} | {parts} | {r['machine_busy_pct']:.0f}% |"
            )
            print(lines[-1], flush=True)
        lines.append(
            f"| | **two to one (means of {args.worker_rounds})** | | | | "
            f"**{mean[2] / mean[1]:.2f}** | | |"
        )
        print(lines[-1], flush=True)
    return [*lines, ""]


async def conversations(args: argparse.Namespace, databases: list[Any]) -> list[str]:
    from bench import conversation

    lines = [
        "## Conversation throughput (incident flow, 9 steps a chat)",
        "",
        f"{args.chats} chats at once against an offline Bot API (no network); steps per "
        "second and step latency. The headline ratio is to a handler with no database that "
        "makes the same Bot API calls (answers each button press, sends the same texts and "
        "keyboards); the plain bare handler sends one text. The last row: 50 chats one "
        "after another, so that a step's latency has no queue in it.",
        "",
        "| database | stack | steps/s | p50 ms | p99 ms | ratio to same calls | ratio to bare |",
        "|---|---|---|---|---|---|---|",
    ]
    loops = [
        "",
        "### Open loop",
        "",
        f"Steps offered at a fixed rate, a share of the full stack's measured capacity (the "
        f"row above), for {args.open_seconds:g} s each, {args.chats} chats in turn; latency "
        "from the offer to the last reply sent.",
        "",
        "| database | offered steps/s | share of capacity | served steps/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, url in databases:
        engine, sessions = await fresh_db(url)
        users = await conversation.seed_reporters(sessions, args.chats)
        full = await conversation.full_stack(sessions, users, record=True)
        same = await conversation.same_calls_handler(users, full["replies"])
        bare = await conversation.bare_handler(users)
        # The same flow, one chat after another: a step's own latency, without a queue.
        alone = await conversation.full_stack(sessions, users[:50], at_once=False)
        for label, r in (
            ("bare PTB handler, one text", bare),
            ("bare PTB handler, same Bot API calls", same),
            ("full stack", full),
            ("full stack, one chat at a time", alone),
        ):
            lines.append(
                f"| {name} | {label} | {r['steps_per_s']:.0f} | {r['p50_ms']:.1f} | "
                f"{r['p99_ms']:.1f} | {r['steps_per_s'] / same['steps_per_s']:.2f} | "
                f"{r['steps_per_s'] / bare['steps_per_s']:.2f} |"
            )
        print("\n".join(lines[-4:]), flush=True)
        for share in (0.25, 0.50, 0.75):
            rate = full["steps_per_s"] * share
            r = await conversation.open_loop(sessions, users, rate, args.open_seconds)
            loops.append(
                f"| {name} | {rate:.0f} | {share:.0%} | {r['steps_per_s']:.0f} | "
                f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} |"
            )
            print(loops[-1], flush=True)
        await discard(engine)
    return [*lines, *loops, ""]


async def over_http(args: argparse.Namespace, databases: list[Any]) -> list[str]:
    from telegram.request import HTTPXRequest

    from bench import conversation
    from bench.loopback import LATENCY_S, slow_api_process

    low, high = (round(x * 1000) for x in LATENCY_S)
    lines = [
        "## Over HTTP with latency",
        "",
        f"{args.http_chats} chats at once; python-telegram-bot's own httpx client (pool of "
        f"64, as `binhyen run` has) against a loopback Bot API in its own process that "
        f"answers after {low}–{high} ms each way, at random.",
        "",
        "| database | stack | steps/s | p50 ms | p99 ms | ratio to same calls |",
        "|---|---|---|---|---|---|",
    ]
    with slow_api_process() as base:
        for name, url in databases:
            engine, sessions = await fresh_db(url)
            users = await conversation.seed_reporters(sessions, args.http_chats)
            full = await conversation.full_stack(
                sessions,
                users,
                record=True,
                request=HTTPXRequest(connection_pool_size=64),
                base_url=base,
            )
            same = await conversation.same_calls_handler(
                users, full["replies"], request=HTTPXRequest(connection_pool_size=64), base_url=base
            )
            await discard(engine)
            for label, r in (("bare PTB handler, same Bot API calls", same), ("full stack", full)):
                lines.append(
                    f"| {name} | {label} | {r['steps_per_s']:.0f} | {r['p50_ms']:.0f} | "
                    f"{r['p99_ms']:.0f} | {r['steps_per_s'] / same['steps_per_s']:.2f} |"
                )
            print("\n".join(lines[-2:]), flush=True)
    return [*lines, ""]


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--only", nargs="*", default=["conversations", "http", "rollups", "delivery", "memory"]
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("TEST_DATABASE_URL", ""),
        help="PostgreSQL URL (a 'bench' schema is made and dropped)",
    )
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--http-chats", type=int, default=50, help="chats at once over HTTP")
    parser.add_argument("--open-seconds", type=float, default=4.0, help="per open-loop rate")
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--hamlets", type=int, default=20, help="hamlets per commune")
    parser.add_argument("--per-year", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=10_000)
    parser.add_argument("--worker-chats", type=int, default=500, help="chats in the backlog")
    parser.add_argument("--worker-rounds", type=int, default=2, help="runs of each, 1 2 2 1")
    parser.add_argument("--worker-steps", type=int, default=5, help="updates per chat")
    parser.add_argument(
        "--worker-latency", nargs="*", default=["no", "yes"], help="Bot API latency: no, yes"
    )
    import sys

    args = parser.parse_args()
    args.raw = " ".join(sys.argv[1:])
    lines = asyncio.run(main(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    cli()

"""Benchmarks, run by hand: `python -m bench.run` (see --help). Prints a table and writes it
to bench/results/latest.md with the machine and versions at the top."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
from importlib.metadata import version
from pathlib import Path

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
    from bench import conversation, data, delivery, memory

    lines = ["# Benchmarks", "", *header(), f"- command: `python -m bench.run {args.raw}`", ""]
    databases = [("SQLite", None)] + ([("PostgreSQL", args.pg)] if args.pg else [])

    if "conversations" in args.only:
        lines += [
            "## Conversation throughput (incident flow, 9 steps a chat)",
            "",
            f"{args.chats} chats at once; steps per second and step latency (the last row: "
            "50 chats one after another, so that a step's latency has no queue in it).",
            "",
            "| database | stack | steps/s | p50 ms | p99 ms | ratio to bare |",
            "|---|---|---|---|---|---|",
        ]
        for name, url in databases:
            engine, sessions = await fresh_db(url)
            users = await conversation.seed_reporters(sessions, args.chats)
            bare = await conversation.bare_handler(users)
            full = await conversation.full_stack(sessions, users)
            # The same flow, one chat after another: a step's own latency, without a queue.
            alone = await conversation.full_stack(sessions, users[:50], at_once=False)
            await discard(engine)
            for label, r in (
                ("bare PTB handler", bare),
                ("full stack", full),
                ("full stack, one chat at a time", alone),
            ):
                ratio = r["steps_per_s"] / bare["steps_per_s"]
                lines.append(
                    f"| {name} | {label} | {r['steps_per_s']:.0f} | "
                    f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {ratio:.2f} |"
                )
            print("\n".join(lines[-2:]), flush=True)
        lines.append("")

    if "rollups" in args.only:
        lines += [
            "## Roll-ups at scale",
            "",
            f"{args.communes} communes × {args.hamlets} hamlets; {args.per_year:,} reports "
            "a year (incidents, activities, tips, weekly reports); one year and ten, "
            "both built first, then timed in turns (the median of nine each).",
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
        engine, sessions = await fresh_db(None)
        result = await delivery.deliver(sessions, args.messages)
        await discard(engine)
        lines += [
            "## Delivery",
            "",
            f"{args.messages:,} outbox messages to as many chats, "
            "against a loopback Bot API enforcing 30/s overall and 1/s per chat.",
            "",
            "| messages | seconds | minimum s | over minimum | 429s | duplicates | delivered |",
            "|---|---|---|---|---|---|---|",
            f"| {result['messages']:,} | {result['seconds']:.1f} | "
            f"{result['minimum_s']:.1f} | {result['over_minimum_pct']:.1f}% | "
            f"{result['429s']} | {result['duplicates']} | {result['delivered']:,} |",
            "",
        ]
        print(lines[-2], flush=True)

    if "memory" in args.only:
        idle = memory.idle_run_mb()
        flight = memory.in_flight_fresh(args.in_flight)
        lines += [
            "## Memory",
            "",
            "| measure | value |",
            "|---|---|",
            f"| `binhyen run` idle (console, demo on SQLite, scheduler and outbox) | "
            f"{idle:.0f} MB |",
            f"| new process, before {flight['conversations']:,} conversations in flight | "
            f"{flight['rss_before_mb']:.0f} MB |",
            f"| after | {flight['rss_after_mb']:.0f} MB "
            f"({flight['per_1000_kb']:.0f} KB per 1,000) |",
            "",
        ]
        print("\n".join(lines[-4:]), flush=True)
    return lines


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--only", nargs="*", default=["conversations", "rollups", "delivery", "memory"]
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("TEST_DATABASE_URL", ""),
        help="PostgreSQL URL (a 'bench' schema is made and dropped)",
    )
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--hamlets", type=int, default=20, help="hamlets per commune")
    parser.add_argument("--per-year", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=10_000)
    import sys

    args = parser.parse_args()
    args.raw = " ".join(sys.argv[1:])
    lines = asyncio.run(main(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    cli()

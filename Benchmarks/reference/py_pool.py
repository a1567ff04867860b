#!/usr/bin/env python3
"""Python process-pool references for PluginHost's benchmark (stdlib only).

The same trivial task as pingpong.c: a function that returns its small input
(8 bytes) transformed, one task at a time per worker (chunksize=1), 2 workers.

    py_pool.py [--pool-tasks N] [--ppe-tasks N] [--oneshot-tasks N]

Prints one line per reference:
    py-pool-imap-unordered workers=2 tasks=N seconds=S rate=R
    py-ppe-map workers=2 tasks=N seconds=S rate=R
    py-pool-oneshot workers=2 tasks=N seconds=S rate=R

Pool start-up is excluded from the persistent-pool timings (each pool is warmed
up first); for the one-shot pool (maxtasksperchild=1) every task forks a fresh
worker, which is what is being measured. Exits non-zero on a wrong result.
A count of 0 skips that reference.
"""

import argparse
import concurrent.futures
import multiprocessing
import sys
import time

WORKERS = 2


def transform(data: bytes) -> bytes:
    """The trivial task: reverse the bytes and flip some bits."""
    return bytes(b ^ 0x5A for b in reversed(data))


def make_input(i: int) -> bytes:
    return i.to_bytes(8, "little")


def check(results, count: int, name: str) -> None:
    expected = {transform(make_input(i)) for i in range(count)}
    got = set(results)
    if len(results) != count or got != expected:
        sys.exit(f"{name}: wrong results ({len(results)} of {count})")


def report(name: str, count: int, seconds: float) -> None:
    print(f"{name} workers={WORKERS} tasks={count} seconds={seconds:.3f} "
          f"rate={count / seconds:.0f}", flush=True)


def bench_pool_imap_unordered(ctx, count: int) -> None:
    with ctx.Pool(WORKERS) as pool:
        list(pool.imap_unordered(transform, [make_input(i) for i in range(64)], chunksize=1))
        inputs = (make_input(i) for i in range(count))
        t0 = time.perf_counter()
        results = list(pool.imap_unordered(transform, inputs, chunksize=1))
        dt = time.perf_counter() - t0
    check(results, count, "py-pool-imap-unordered")
    report("py-pool-imap-unordered", count, dt)


def bench_ppe_map(ctx, count: int) -> None:
    with concurrent.futures.ProcessPoolExecutor(WORKERS, mp_context=ctx) as ex:
        list(ex.map(transform, [make_input(i) for i in range(64)], chunksize=1))
        inputs = [make_input(i) for i in range(count)]
        t0 = time.perf_counter()
        results = list(ex.map(transform, inputs, chunksize=1))
        dt = time.perf_counter() - t0
    check(results, count, "py-ppe-map")
    report("py-ppe-map", count, dt)


def bench_pool_oneshot(ctx, count: int) -> None:
    with ctx.Pool(WORKERS, maxtasksperchild=1) as pool:
        inputs = (make_input(i) for i in range(count))
        t0 = time.perf_counter()
        results = list(pool.imap_unordered(transform, inputs, chunksize=1))
        dt = time.perf_counter() - t0
    check(results, count, "py-pool-oneshot")
    report("py-pool-oneshot", count, dt)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pool-tasks", type=int, default=100_000)
    ap.add_argument("--ppe-tasks", type=int, default=20_000)
    ap.add_argument("--oneshot-tasks", type=int, default=2_000)
    args = ap.parse_args()
    ctx = multiprocessing.get_context("fork")
    if args.pool_tasks > 0:
        bench_pool_imap_unordered(ctx, args.pool_tasks)
    if args.ppe_tasks > 0:
        bench_ppe_map(ctx, args.ppe_tasks)
    if args.oneshot_tasks > 0:
        bench_pool_oneshot(ctx, args.oneshot_tasks)


if __name__ == "__main__":
    main()

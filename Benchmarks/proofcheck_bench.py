#!/usr/bin/env python3
"""make bench, ProofCheck part: iset.mm and a k-times larger database through plugin-host with
1 and 2 workers, one-shot and persistent, next to MetamathKit in one process on one thread
(metamath-verify), all in the same invocation because these machines are noisy.

Prints, per database: the in-process compile and verify times (the peer), each host
configuration's wall time (median and best of BENCH_RUNS runs; the configurations take turns run
by run), the share of the workers' time spent outside proof checking (parse, image, spawn,
transfer), the 2-vs-1-worker speed-up with its spread over the rounds, and how cost grows with
size. Nothing here asserts a threshold.

usage: proofcheck_bench.py RELEASE_BIN_DIR
"""
import json, os, resource, statistics, subprocess, sys, tempfile, time

bin_dir = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
out = os.environ.get("BENCH_OUT_DIR", os.path.join(here, "out"))
shared = os.environ.get("SHARED_DIR", os.path.normpath(os.path.join(here, "..", "..", "shared")))
runs = int(os.environ.get("BENCH_RUNS", "3"))
scale = int(os.environ.get("BENCH_SCALE", "10"))
os.makedirs(out, exist_ok=True)

iset = os.path.join(shared, "data", "metamath", "iset.mm")
big = os.path.join(out, f"iset-x{scale}.mm")
if not os.path.exists(big) or os.path.getsize(big) == 0:
    subprocess.run([sys.executable, os.path.join(shared, "tools", "scale-mm.py"), iset, str(scale), big], check=True)

def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

def timed(command):
    """Wall seconds, stdout, and CPU seconds of the process and everything it waited for."""
    cpu_before = children_cpu()
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout, children_cpu() - cpu_before

def peer(db):
    compile_ms, verify_ms = [], []
    for _ in range(runs):
        _, text, _ = timed([os.path.join(bin_dir, "metamath-verify"), db])
        fields = dict(part.split("=") for part in text.split() if "=" in part)
        compile_ms.append(float(fields["compile_ms"]))
        verify_ms.append(float(fields["verify_ms"]))
    return statistics.median(compile_ms), statistics.median(verify_ms)

def checking_window(events_path):
    """Seconds from the first task started on a worker to the last task ended (host events)."""
    with open(events_path) as events:
        records = [json.loads(line) for line in events if line.strip()]
    started = [r["time"] for r in records if r["event"] == "task-started"]
    ended = [r["time"] for r in records if r["event"] == "task-ended"]
    return max(ended) - min(started)

def host_command(db, workers, persistent, events):
    """The plugin-host command line for one configuration, writing its events to `events`."""
    command = [os.path.join(bin_dir, "plugin-host"), "run", "--no-progress", "--events", events,
               "-j", str(workers), "proofcheck"]
    if persistent:
        command.append("--persistent")
    command.append(db)
    return command

def host_runs(db, configurations):
    """Runs every (workers, persistent) configuration BENCH_RUNS times, round-robin (one run of
    each, then the next round; every other round in reverse order), so a drift of the machine's
    speed falls on all of them alike. Returns, per configuration, its (wall, cpu, checking
    window) of each round, in round order."""
    measured = {configuration: [] for configuration in configurations}
    with tempfile.TemporaryDirectory() as scratch:
        events = os.path.join(scratch, "events.jsonl")
        for index in range(runs):
            for workers, persistent in (configurations if index % 2 == 0 else reversed(configurations)):
                wall, _, cpu = timed(host_command(db, workers, persistent, events))
                measured[(workers, persistent)].append((wall, cpu, checking_window(events)))
    return measured

results = {}
for name, db in [("iset.mm", iset), (f"iset-x{scale}.mm", big)]:
    compile_ms, verify_ms = peer(db)
    print(f"peer metamath-verify db={name} compile_ms={compile_ms:.1f} verify_ms={verify_ms:.1f} "
          f"(one process, one thread, median of {runs})")
    configurations = [(workers, persistent) for workers in (1, 2) for persistent in (False, True)]
    measured = host_runs(db, configurations)
    for workers, persistent in configurations:
        rounds = measured[(workers, persistent)]
        walls = [wall for wall, _, _ in rounds]
        median, best = statistics.median(walls), min(walls)
        cpu = statistics.median(cpu for _, cpu, _ in rounds)
        window = statistics.median(window for _, _, window in rounds)
        policy = "persistent" if persistent else "one-shot"
        outside = 1 - (verify_ms / 1000) / (median * workers)
        results[(name, workers, policy)] = median
        results[(name, workers, policy, "window")] = window
        results[(name, workers, policy, "walls")] = walls
        # cpu_s: master and workers together; cpu_s / wall_s near the core count means the
        # run was bound by CPU, so only less work (not more overlap) makes it faster.
        print(f"proofcheck db={name} workers={workers} policy={policy} wall_s={median:.3f} best_s={best:.3f} "
              f"cpu_s={cpu:.3f} cores_busy={cpu / median:.2f} "
              f"outside_checking={outside * 100:.0f}% vs_peer_total={(compile_ms + verify_ms) / 1000 / median:.2f}x "
              f"checking_window_s={window:.3f} serial_s={median - window:.3f}")
    results[(name, "peer")] = (compile_ms + verify_ms) / 1000

print()
large = f"iset-x{scale}.mm"
for policy in ("one-shot", "persistent"):
    # Each round ran every configuration once, within seconds: the spread of the rounds' ratios
    # shows the noise.
    paired = sorted(one / two for one, two in zip(results[(large, 1, policy, "walls")], results[(large, 2, policy, "walls")]))
    print(f"{large} {policy}: 2 workers {results[(large, 1, policy)] / results[(large, 2, policy)]:.2f}x faster than 1 "
          f"(ratio of medians; round by round {paired[0]:.2f}-{paired[-1]:.2f}x, median {statistics.median(paired):.2f}x); "
          f"cost x{scale} size / x1 size = {results[(large, 2, policy)] / results[('iset.mm', 2, policy)]:.1f} "
          f"(linear: {scale})")
# Amdahl: with S the serial part (wall minus checking window) and W1, W2 the checking windows,
# the speed-up is (S1 + W1) / (S2 + W2); 1.7x needs S <= (W1 - 1.7 W2) / 0.7 when S1 = S2.
for policy in ("one-shot", "persistent"):
    w1, w2 = results[(large, 1, policy, "window")], results[(large, 2, policy, "window")]
    s1, s2 = results[(large, 1, policy)] - w1, results[(large, 2, policy)] - w2
    print(f"{large} {policy}: checking window {w1 * 1000:.0f} -> {w2 * 1000:.0f} ms ({w1 / w2:.2f}x); "
          f"serial part {s1 * 1000:.0f} / {s2 * 1000:.0f} ms; "
          f"1.7x would need a serial part <= {max(0, w1 - 1.7 * w2) / 0.7 * 1000:.0f} ms")
print(f"peer (one process) cost x{scale} / x1 = {results[(large, 'peer')] / results[('iset.mm', 'peer')]:.1f}")

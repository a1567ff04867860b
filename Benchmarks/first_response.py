"""Median time from a one-shot worker's spawn to its first response, from an --events file."""
import json
import statistics
import sys

spawned = {}      # worker -> spawn time
started_on = {}   # task -> worker
first = {}        # worker -> first response time
with open(sys.argv[1]) as events:
    for line in events:
        event = json.loads(line)
        kind = event["event"]
        if kind == "worker-started":
            spawned[event["worker"]] = event["time"] - event["startup"]
        elif kind == "task-started":
            started_on[event["task"]] = event["worker"]
        elif kind == "task-ended" and event["task"] in started_on:
            worker = started_on[event["task"]]
            first.setdefault(worker, event["time"])
latencies = [first[w] - spawned[w] for w in first if w in spawned]
startups = []
print(f"first_response_ms_median={statistics.median(latencies) * 1000:.2f} workers_measured={len(latencies)}")

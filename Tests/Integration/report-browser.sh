#!/usr/bin/env bash
# The HTML report in a real headless browser: a chaos run with crashes, hangs past their time
# limit, follow-ups and feedback writes --events and --trace; `plugin-host report` makes the
# page; Debian's chromium (installed when missing) renders it with its script run and dumps the
# DOM, which must hold what the events say (counts, names, outcomes, every failed task, the
# attempts and deaths the script drew). A screenshot and the page are kept under
# Benchmarks/out/ for a person to look at.
#
# usage: Tests/Integration/report-browser.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: report-browser.sh BIN_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/Benchmarks/out"
mkdir -p "$out"
if ! command -v chromium >/dev/null; then
  echo "installing chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
"$bin/plugin-host" run --no-progress -j 3 --retries 1 --timeout 2 --events "$work/events.jsonl" --trace "$work/trace.json" \
  chaos --repeat 4 echo:a segv noisy-death "@150 hang" followup:2 followup-die:1 feedback:3 exit:3 taskfail:oops "sleep:40" \
  "fail:<b>no</b>" echo:b >"$work/run.out" 2>"$work/run.err" || status=$?
[ "$status" = 1 ] || { echo "FAIL: the chaos run exited $status (expected 1)"; cat "$work/run.err"; exit 1; }
"$bin/plugin-host" report "$work/events.jsonl" -o "$work/run.html"
cp "$work/run.html" "$out/report-chaos.html"

browse() {
  chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" --window-size=1400,2600 "$@" 2>>"$work/chromium.err"
}
browse --dump-dom "file://$work/run.html" >"$work/dom.html"
browse --screenshot="$out/report-chaos.png" "file://$work/run.html" >/dev/null
[ -s "$out/report-chaos.png" ] || { echo "FAIL: no screenshot"; tail -5 "$work/chromium.err"; exit 1; }

python3 - "$work/events.jsonl" "$work/dom.html" "$work/trace.json" <<'PY'
import html.parser, json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
dom = open(sys.argv[2]).read()
trace = json.load(open(sys.argv[3]))

class Page(html.parser.HTMLParser):
    """The ids' texts, the summary cells and the failed-task rows of the rendered DOM."""
    def __init__(self):
        super().__init__()
        self.ids, self.cells, self.failed, self.body = {}, {}, {}, {}
        self.stack, self.row, self.cell = [], None, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body": self.body = a
        self.stack.append((tag, a.get("id"), a.get("data-outcome"), a.get("class")))
        if tag == "tr" and a.get("class") == "failed-task": self.row = [a["data-task"], []]
        if tag == "td" and self.row is not None: self.row[1].append("")
    def handle_endtag(self, tag):
        if not self.stack: return
        t, _, _, _ = self.stack.pop()
        if t == "tr" and self.row is not None:
            self.failed[int(self.row[0])] = self.row[1]; self.row = None
    def handle_data(self, data):
        if not self.stack: return
        tag, ident, outcome, _ = self.stack[-1]
        if ident: self.ids[ident] = self.ids.get(ident, "") + data
        if tag == "td" and outcome: self.cells[outcome] = data
        if tag == "td" and self.row is not None: self.row[1][-1] += data

page = Page(); page.feed(dom)
problems = []
def check(ok, what):
    if not ok: problems.append(what)

planned = {"end", "one-shot policy", "run finished", "killed: worker cancelled"}
def is_planned(reason): return reason in planned or reason.startswith("recycled") or reason.startswith("its slot is needed by")
ended = [e for e in events if e["event"] == "task-ended"]
started = [e for e in events if e["event"] == "task-started"]
deaths = [e for e in events if e["event"] == "worker-ended" and not is_planned(e["reason"])]
names = {e["task"]: e.get("name") for e in events if e["event"] == "task-queued"}
check(page.body.get("data-rendered") == "yes", "the page's script did not run to its end")
check(page.ids.get("total-tasks") == str(len(ended)), f"total tasks {page.ids.get('total-tasks')} != {len(ended)}")
check(page.ids.get("drawn-attempts") == str(len(started)), f"drawn attempts {page.ids.get('drawn-attempts')} != {len(started)}")
check(page.ids.get("drawn-deaths") == str(len(deaths)), f"drawn deaths {page.ids.get('drawn-deaths')} != {len(deaths)}")
check(page.ids.get("worker-deaths") == str(len(deaths)), "worker deaths")
check(page.ids.get("feedback-count") == str(sum(e["event"] == "feedback" for e in events)), "feedback count")
for outcome in ["done", "failed", "expired", "cancelled", "skipped"]:
    want = sum(e["outcome"] == outcome for e in ended)
    check(page.cells.get(outcome) == str(want), f"{outcome}: {page.cells.get(outcome)} != {want}")
failed = {e["task"]: e for e in ended if e["outcome"] in ("failed", "expired", "cancelled")}
check(set(page.failed) == set(failed), f"failed rows {sorted(page.failed)} != {sorted(failed)}")
for task, e in failed.items():
    row = page.failed.get(task, [])
    check(len(row) == 7 and row[2] == (names.get(task) or "") and row[3] == e["outcome"] and row[6] == e.get("message", ""),
          f"failed task {task}: {row}")
for kind in ["segv", "noisy-death", "hang", "exit:3", "taskfail:oops", "state-die:", "fail:<b>no</b>"]:
    check(any(kind in (r[2] or "") for r in page.failed.values()), f"no failed row for {kind}")
check(sum(e["outcome"] == "expired" for e in ended) >= 4 and any("state:" in (n or "") for n in names.values()),
      "the run lacks expirations or follow-ups")
slices = [t for t in trace if t.get("ph") == "X" and t.get("cat") == "chaos"]
check(len(slices) == len(started), f"trace slices {len(slices)} != attempts {len(started)}")
if problems:
    print("FAIL: the rendered report disagrees with the events:"); print("\n".join("  " + p for p in problems)); sys.exit(1)
print(f"report-browser: ok ({len(ended)} tasks, {len(started)} attempts, {len(failed)} failed rows, {len(deaths)} deaths drawn)")
PY
echo "report-browser: screenshot $out/report-chaos.png"

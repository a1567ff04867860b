/// The style sheet and script inlined into every ``ReportPage`` (no network, no external files).
enum ReportPageAssets {
    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}
        h1{font-size:1.4em}h1 .source{font-weight:normal;color:#555}h2{font-size:1.1em;margin-top:1.6em}
        table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
        th{background:#f2f2f2}td.reason{max-width:60em;word-break:break-word}
        .hint{color:#666;font-size:12px}.chart{position:relative}canvas{width:100%;border:1px solid #ddd;display:block}
        #tip{position:absolute;display:none;background:#fff;border:1px solid #888;padding:3px 6px;font-size:12px;pointer-events:none;white-space:pre}
        .done{color:#2a7}.failed{color:#c22}.expired{color:#d70}.cancelled{color:#777}.skipped{color:#99a}.lost{color:#83c}
        .key{display:inline-block;width:10px;height:10px;margin:0 3px 0 10px}
        """

    static let script = #"""
        (function () {
          "use strict";
          var D = JSON.parse(document.getElementById("data").textContent);
          var COLORS = { done: "#3b9", failed: "#d33", expired: "#e80", cancelled: "#999", skipped: "#bbc", lost: "#93d" };
          var KIND_COLORS = ["#37c", "#d62", "#3a5", "#a3b", "#c90", "#2aa", "#777", "#b55"];
          var n = D.start.length, lanes = Math.max(D.lanes, 1), total = Math.max(D.duration, 1);
          var view = [0, total];
          var legend = document.getElementById("legend");
          D.outcomes.forEach(function (name) {
            legend.insertAdjacentHTML("beforeend", '<span class="key" style="background:' + COLORS[name] + '"></span>' + name);
          });

          function setup(canvas, height) {
            var ratio = window.devicePixelRatio || 1, width = canvas.clientWidth || 1200;
            canvas.width = width * ratio; canvas.height = height * ratio; canvas.style.height = height + "px";
            var g = canvas.getContext("2d"); g.setTransform(ratio, 0, 0, ratio, 0, 0);
            g.font = "11px system-ui,sans-serif"; g.clearRect(0, 0, width, height);
            return { g: g, w: width, h: height };
          }
          function label(us) {
            var s = us / 1e6;
            return s >= 120 ? (s / 60).toFixed(1) + " min" : s >= 1 ? s.toFixed(s >= 10 ? 0 : 2) + " s" : (s * 1000).toFixed(s >= 0.01 ? 0 : 2) + " ms";
          }
          function timeAxis(c, left, right, from, to, y) {
            var g = c.g, step = Math.pow(10, Math.floor(Math.log10((to - from) / 6 || 1)));
            [1, 2, 5, 10].some(function (m) { if ((to - from) / (step * m) <= 8) { step *= m; return true; } return false; });
            g.fillStyle = "#555"; g.strokeStyle = "#eee";
            for (var t = Math.ceil(from / step) * step; t <= to; t += step) {
              var x = left + (t - from) / (to - from) * (right - left);
              g.beginPath(); g.moveTo(x, 0); g.lineTo(x, y); g.stroke(); g.fillText(label(t), x + 2, y + 12);
            }
          }

          var LEFT = 60, laneHeight = Math.max(3, Math.min(22, Math.floor(420 / lanes)));
          function drawTimeline() {
            var height = lanes * laneHeight + 20, c = setup(document.getElementById("timeline"), height), g = c.g;
            var from = view[0], to = view[1], scale = (c.w - LEFT) / (to - from), drawn = 0;
            timeAxis(c, LEFT, c.w, from, to, height - 18);
            g.fillStyle = "#333";
            var every = Math.ceil(12 / laneHeight);
            for (var l = 0; l < lanes; l += every) g.fillText("slot " + l, 2, l * laneHeight + Math.min(laneHeight, 12));
            // Done first, failures last so they stay visible.
            [0, 4, 3, 5, 2, 1].forEach(function (code) {
              g.fillStyle = COLORS[D.outcomes[code]];
              for (var i = 0; i < n; i++) {
                if (D.outcome[i] !== code || D.end[i] < from || D.start[i] > to) continue;
                var x0 = LEFT + (Math.max(D.start[i], from) - from) * scale, x1 = LEFT + (Math.min(D.end[i], to) - from) * scale;
                var lane = D.lane[i] < 0 ? lanes - 1 : D.lane[i];
                g.fillRect(x0, lane * laneHeight + 1, Math.max(x1 - x0, 1), Math.max(laneHeight - 2, 1));
                drawn++;
              }
            });
            var deaths = 0;
            g.fillStyle = "#000";
            D.deaths.forEach(function (d) {
              if (d[0] < from || d[0] > to) return;
              var x = LEFT + (d[0] - from) * scale, y = (d[1] < 0 ? lanes - 1 : d[1]) * laneHeight;
              g.beginPath(); g.moveTo(x - 4, y); g.lineTo(x + 4, y); g.lineTo(x, y + Math.min(8, laneHeight)); g.fill();
              deaths++;
            });
            document.getElementById("drawn-attempts").textContent = drawn;
            document.getElementById("drawn-deaths").textContent = deaths;
          }

          function lineChart(id, series, colors, names) {
            var c = setup(document.getElementById(id), 160), g = c.g, bins = series[0].length;
            var max = 0; series.forEach(function (s) { s.forEach(function (v) { max = Math.max(max, v); }); });
            max = max || 1;
            timeAxis(c, LEFT, c.w, 0, total, 142);
            g.fillStyle = "#555"; g.fillText(max.toFixed(max < 10 ? 1 : 0), 2, 12); g.fillText("0", 2, 140);
            series.forEach(function (s, k) {
              g.strokeStyle = colors[k % colors.length]; g.lineWidth = 1.5; g.beginPath();
              s.forEach(function (v, b) {
                var x = LEFT + (b + 0.5) / bins * (c.w - LEFT), y = 140 - v / max * 130;
                if (b === 0) g.moveTo(x, y); else g.lineTo(x, y);
              });
              g.stroke();
              if (names) { g.fillStyle = colors[k % colors.length]; g.fillText(names[k], LEFT + 8 + 90 * k, 12); }
            });
          }

          function histogram() {
            var c = setup(document.getElementById("durations"), 180), g = c.g, bars = D.edges.length + 1;
            var max = 1; D.histogram.forEach(function (h) { h.forEach(function (v) { max = Math.max(max, v); }); });
            var width = (c.w - LEFT) / bars, kinds = D.histogram.length;
            D.histogram.forEach(function (h, k) {
              g.fillStyle = KIND_COLORS[k % KIND_COLORS.length];
              h.forEach(function (v, b) {
                if (!v) return;
                var height = Math.max(1, Math.log(1 + v) / Math.log(1 + max) * 140);
                g.fillRect(LEFT + b * width + k * width / kinds, 150 - height, width / kinds - 1, height);
              });
              g.fillText(D.kinds[k] || "", LEFT + 8 + 90 * k, 12);
            });
            g.fillStyle = "#555";
            for (var e = 0; e < D.edges.length; e += 5) g.fillText(label(D.edges[e]), LEFT + (e + 1) * width - 8, 166);
            g.fillText("count (log)", 2, 12);
          }

          function drawAll() {
            drawTimeline();
            lineChart("busy", [D.busy], ["#37c"], null);
            var rates = D.ended.map(function (s) { return s.map(function (v) { return v / (D.bin / 1e6); }); });
            lineChart("throughput", rates, KIND_COLORS, D.kinds);
            histogram();
          }

          var timeline = document.getElementById("timeline"), tip = document.getElementById("tip"), dragFrom = null;
          function timeAt(event) {
            var rect = timeline.getBoundingClientRect();
            return view[0] + Math.max(0, event.clientX - rect.left - LEFT) / (rect.width - LEFT) * (view[1] - view[0]);
          }
          timeline.addEventListener("mousedown", function (e) { dragFrom = timeAt(e); });
          timeline.addEventListener("mouseup", function (e) {
            var to = timeAt(e);
            if (dragFrom !== null && Math.abs(to - dragFrom) > (view[1] - view[0]) / 500) {
              view = [Math.min(dragFrom, to), Math.max(dragFrom, to)]; drawTimeline();
            }
            dragFrom = null;
          });
          timeline.addEventListener("dblclick", function () { view = [0, total]; drawTimeline(); });
          timeline.addEventListener("mousemove", function (e) {
            var rect = timeline.getBoundingClientRect(), t = timeAt(e), lane = Math.floor((e.clientY - rect.top) / laneHeight);
            var slack = (view[1] - view[0]) / (rect.width - LEFT) * 2, found = -1;
            for (var i = 0; i < n; i++) {
              if (D.lane[i] === lane && D.start[i] - slack <= t && D.end[i] + slack >= t) { found = i; if (D.outcome[i] !== 0) break; }
            }
            if (found < 0) { tip.style.display = "none"; return; }
            tip.textContent = D.kinds[D.kind[found]] + " task " + D.task[found] + ": " + D.outcomes[D.outcome[found]]
              + "\nslot " + lane + ", " + label(D.start[found]) + " + " + label(D.end[found] - D.start[found]);
            tip.style.left = (e.clientX - rect.left + 12) + "px"; tip.style.top = (e.clientY - rect.top + 12) + "px";
            tip.style.display = "block";
          });
          timeline.addEventListener("mouseleave", function () { tip.style.display = "none"; });
          window.addEventListener("resize", drawAll);
          drawAll();
          document.body.setAttribute("data-rendered", "yes");
        })();
        """#
}

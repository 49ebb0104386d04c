#!/usr/bin/env bash
# A series of storm benchmark runs, each in a process of its own (a fresh heap, as a user's
# run has), with the best, median and worst end-to-end wall time and events/s. A fixed workload
# unrelated to novasim (`storm --calibrate`) runs between the storms: its own spread is the
# machine's (a shared VM slows everything while its host is busy).
#
# Usage: bash benches/storm-series.sh [cold|live] [runs]   (default: cold 21)
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-cold}"
runs="${2:-21}"
case "$kind" in cold | live) ;; *) echo "kind must be cold or live" >&2; exit 2 ;; esac
bin="$(cargo bench --bench storm --no-run 2>&1 | grep -o 'target/release/deps/storm-[0-9a-f]*' | tail -1)"
test -x "$bin" || { echo "storm benchmark binary not found" >&2; exit 1; }
for _ in $(seq "$runs"); do
    "$bin" --kind "$kind" | awk '/^  events: /{gsub(",", "", $2); e=$2} /wall time:/{w=$3} END {print "storm", w, e}'
    "$bin" --calibrate | awk '{print "calibration", $4}'
done | awk -v kind="$kind" '
    $1 == "storm" { storm[++ns] = $2; events = $3 }
    $1 == "calibration" { cal[++nc] = $2 }
    function sort(a, n,    i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    }
    END {
        sort(storm, ns); sort(cal, nc)
        mid = int((ns + 1) / 2)
        printf "%s storm, %d runs, %d events: wall best %.3f s, median %.3f s, worst %.3f s\n",
            kind, ns, events, storm[1], storm[mid], storm[ns]
        printf "events/s: best %.0f, median %.0f, worst %.0f\n",
            events / storm[1], events / storm[mid], events / storm[ns]
        printf "calibration workload between the runs: best %.3f s, median %.3f s, worst %.3f s\n",
            cal[1], cal[mid], cal[ns]
    }'

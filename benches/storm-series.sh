#!/usr/bin/env bash
# A series of storm benchmark runs, each in a process of its own (a fresh heap, as a user's
# run has), with the best, median and worst end-to-end wall time and events/s.
#
# Usage: bash benches/storm-series.sh [cold|live] [runs]   (default: cold 21)
# One run alone says little on a shared VM: its wall time depends on the neighbours' load.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-cold}"
runs="${2:-21}"
case "$kind" in cold | live) ;; *) echo "kind must be cold or live" >&2; exit 2 ;; esac
bin="$(cargo bench --bench storm --no-run 2>&1 | grep -o 'target/release/deps/storm-[0-9a-f]*' | tail -1)"
test -x "$bin" || { echo "storm benchmark binary not found" >&2; exit 1; }
for _ in $(seq "$runs"); do
    "$bin" --kind "$kind" | awk '/^  events: /{gsub(",", "", $2); e=$2} /wall time:/{w=$3} END {print w, e}'
done | sort -n | awk -v kind="$kind" '
    { wall[NR] = $1; events = $2 }
    END {
        mid = int((NR + 1) / 2)
        printf "%s storm, %d runs, %d events: wall best %.3f s, median %.3f s, worst %.3f s\n",
            kind, NR, events, wall[1], wall[mid], wall[NR]
        printf "events/s: best %.0f, median %.0f, worst %.0f\n",
            events / wall[1], events / wall[mid], events / wall[NR]
    }'

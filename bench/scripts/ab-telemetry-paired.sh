#!/usr/bin/env bash
# Telemetry on vs off, both arms at the same time: two servers from one Release build (on: default telemetry, with
# /metrics scraped once a second as Prometheus would; off: --Telemetry:Enabled=false), each loaded by its own bench
# at c=CONCURRENCY with the same fixed-length requests. Running the arms side by side puts them under the same machine
# conditions (a shared machine's speed shifts by more than the effect when arms run one after the other), so per round:
#   - the CPU-seconds ratio on/off of the two servers is what telemetry costs per unit of work (same requests, same
#     token counts; ONNX Runtime's spinning is off so idle threads do not burn CPU that is not work);
#   - the throughput ratio on/off is the loss while both compete for the same cores.
#   (cd <clone> && dotnet build src/MmServe.Api -c Release && dotnet build bench/MmServe.Bench -c Release)
#   ROOT=<clone> ROUNDS=5 bash bench/scripts/ab-telemetry-paired.sh
set -u
ROOT=${ROOT:?the clone with the Release builds}
ROUNDS=${ROUNDS:-5}
CONCURRENCY=${CONCURRENCY:-16}
REQUESTS=${REQUESTS:-768}
BENCH=$ROOT/bench/MmServe.Bench/bin/Release/net10.0/MmServe.Bench.dll
SERVER=$ROOT/src/MmServe.Api/bin/Release/net10.0/MmServe.Api.dll
TICKS=$(getconf CLK_TCK)
declare -A PORT=([on]=8090 [off]=8091)
# utime + stime of a process (fields 14 and 15 of /proc/PID/stat; the command name in field 2 has no spaces here)
cpu_seconds() { awk -v t=$TICKS '{ printf "%.2f", ($14 + $15) / t }' /proc/$1/stat; }
bench() { dotnet $BENCH --url http://127.0.0.1:$1 --concurrency $CONCURRENCY --num-requests $2 --max-tokens 64 --ignore-eos --warmup 0; }
throughput() { awk -F: '/Output token throughput/ { gsub(/ /, "", $2); print $2 }' "$1"; }
for round in $(seq 1 $ROUNDS); do
  declare -A pid=()
  # Alternate which arm starts (and is loaded) first, so that an order effect cancels over the rounds.
  if [ $((round % 2)) -eq 1 ]; then order=(on off); else order=(off on); fi
  for arm in "${order[@]}"; do
    if curl -s -o /dev/null http://127.0.0.1:${PORT[$arm]}/health/live; then echo "port ${PORT[$arm]} is busy" >&2; exit 1; fi
    extra=(--Workers:0:AllowSpinning=false)
    if [ $arm = off ]; then extra+=(--Telemetry:Enabled=false); fi
    (cd $ROOT && exec dotnet $SERVER --urls http://127.0.0.1:${PORT[$arm]} --Grpc:Enabled=false "${extra[@]}") > /tmp/paired-server-$arm.log 2>&1 &
    pid[$arm]=$!
  done
  for arm in "${order[@]}"; do
    for i in $(seq 1 120); do curl -sf http://127.0.0.1:${PORT[$arm]}/health/ready >/dev/null && break; sleep 1; done
    kill -0 ${pid[$arm]} || { echo "server $arm died" >&2; exit 1; }
    bench ${PORT[$arm]} 64 > /dev/null 2>&1   # warm-up: JIT and ORT allocations out of the measured window
  done
  (while true; do curl -s -o /dev/null http://127.0.0.1:${PORT[on]}/metrics; sleep 1; done) & scraper=$!
  on_before=$(cpu_seconds ${pid[on]}); off_before=$(cpu_seconds ${pid[off]})
  benches=()
  for arm in "${order[@]}"; do bench ${PORT[$arm]} $REQUESTS > /tmp/paired-bench-$arm.txt 2>&1 & benches+=($!); done
  wait "${benches[@]}"
  on_cpu=$(awk -v a=$(cpu_seconds ${pid[on]}) -v b=$on_before 'BEGIN { printf "%.2f", a - b }')
  off_cpu=$(awk -v a=$(cpu_seconds ${pid[off]}) -v b=$off_before 'BEGIN { printf "%.2f", a - b }')
  kill $scraper; kill ${pid[on]} ${pid[off]}; wait ${pid[on]} ${pid[off]} 2>/dev/null
  on_tps=$(throughput /tmp/paired-bench-on.txt); off_tps=$(throughput /tmp/paired-bench-off.txt)
  awk -v r=$round -v f=${order[0]} -v a=$on_cpu -v b=$off_cpu -v x=$on_tps -v y=$off_tps 'BEGIN {
    printf "round %d (%s first): server CPU s on %.2f off %.2f (on/off %.3f); output tok/s on %s off %s (on/off %.3f)\n", r, f, a, b, a / b, x, y, x / y }'
done

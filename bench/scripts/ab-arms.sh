#!/usr/bin/env bash
# Two server configurations ("arms") of one Release build, alternated ROUNDS times on the same request stream:
#   (cd <clone> && dotnet build src/MmServe.Api -c Release && dotnet build bench/MmServe.Bench -c Release)
#   ROOT=<clone> ARM_A="gqa --Model:DecoderVariant=gqa" ARM_B="concat --Model:DecoderVariant=decoder" bash bench/scripts/ab-arms.sh
# Each arm is "NAME SETTING...". SCRAPE=NAME scrapes that arm's /metrics once a second, as a Prometheus server would.
# Besides the bench's throughput it prints the server's CPU seconds (user + system, from /proc) spent on the run: both
# arms do the same work (same requests, fixed token counts), so the CPU-seconds ratio is the difference's cost even
# when the shared machine's speed shifts between runs (throughput on 2 shared cores swings by more than some effects).
set -u
ROOT=${ROOT:?the clone with the Release builds}
read -r -a ARM_A_WORDS <<< "${ARM_A:?NAME and settings of arm A}"
read -r -a ARM_B_WORDS <<< "${ARM_B:?NAME and settings of arm B}"
ROUNDS=${ROUNDS:-3}
SWEEP=${SWEEP:-1,16}
REQUESTS=${REQUESTS:-1024}
SCRAPE=${SCRAPE:-}
# Requests before each measured level: enough for tiered JIT to finish (with 8, the clrjit library was still ~10 % of
# the server's CPU samples in the measured window).
WARMUP=${WARMUP:-256}
# Extra server settings for both arms, e.g. SERVER_ARGS="--Workers:0:AllowSpinning=false" so that ONNX Runtime's
# spinning threads do not burn CPU seconds that are not work.
read -r -a SERVER_EXTRA <<< "${SERVER_ARGS:-}"
BENCH=$ROOT/bench/MmServe.Bench/bin/Release/net10.0/MmServe.Bench.dll
TICKS=$(getconf CLK_TCK)
# utime + stime of a process (fields 14 and 15 of /proc/PID/stat; the command name in field 2 has no spaces here)
cpu_seconds() { awk -v t=$TICKS '{ printf "%.2f", ($14 + $15) / t }' /proc/$1/stat; }
run_arm() {
  local round=$1 arm=$2; shift 2
  if curl -s -o /dev/null http://127.0.0.1:8090/health/live; then echo "port 8090 is busy" >&2; exit 1; fi
  cd $ROOT
  dotnet src/MmServe.Api/bin/Release/net10.0/MmServe.Api.dll --urls http://127.0.0.1:8090 --Grpc:Enabled=false "${SERVER_EXTRA[@]}" "$@" > /tmp/server-$arm-$round.log 2>&1 &
  local pid=$!
  cd /tmp
  for i in $(seq 1 120); do curl -sf http://127.0.0.1:8090/health/ready >/dev/null && break; sleep 1; done
  kill -0 $pid || { echo "server died" >&2; exit 1; }
  local scraper=""
  if [ "$arm" = "$SCRAPE" ]; then (while true; do curl -s -o /dev/null http://127.0.0.1:8090/metrics; sleep 1; done) & scraper=$!; fi
  echo "=== $arm round $round"
  # Warm-up outside the measured window (throughput and CPU seconds): JIT tiering, ORT's arena, the thread pool.
  dotnet $BENCH --url http://127.0.0.1:8090 --concurrency 16 --num-requests $WARMUP --max-tokens 64 --ignore-eos --warmup 0 > /dev/null 2>&1
  local cpu_before=$(cpu_seconds $pid)
  dotnet $BENCH --url http://127.0.0.1:8090 --sweep $SWEEP --num-requests $REQUESTS --max-tokens 64 --ignore-eos --warmup 0 2>&1 | grep -E "Output token throughput|Mean E2EL|Median ITL|P99 ITL"
  local cpu_after=$(cpu_seconds $pid)
  echo "server CPU seconds for the run ($arm): $(awk -v a=$cpu_after -v b=$cpu_before 'BEGIN { printf "%.2f", a - b }')"
  if [ -n "$scraper" ]; then kill $scraper; fi
  kill $pid; wait $pid 2>/dev/null
}
for round in $(seq 1 $ROUNDS); do
  # Alternate which arm runs first, so that an order effect (the machine warming up or cooling down) cancels out.
  if [ $((round % 2)) -eq 1 ]; then
    run_arm $round "${ARM_A_WORDS[@]}"; run_arm $round "${ARM_B_WORDS[@]}"
  else
    run_arm $round "${ARM_B_WORDS[@]}"; run_arm $round "${ARM_A_WORDS[@]}"
  fi
done

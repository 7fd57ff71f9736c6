#!/usr/bin/env bash
# The gateway's cost and gain, at one concurrency (default 32), alternated ROUNDS times:
#   direct  one worker, the load generator talking to it
#   gw1     the same one worker behind the gateway   (gw1 - direct = what the gateway adds to TTFT)
#   gw2     two workers behind the gateway           (gw2 / direct = the throughput ratio)
# Build first (Release), from the repository root:
#   dotnet build src/MmServe.Api -c Release && dotnet build src/MmServe.Gateway -c Release && dotnet build bench/MmServe.Bench -c Release
#   ROUNDS=3 bash bench/scripts/gateway.sh
# Every process runs on this machine: two workers share its cores (WORKER_ARGS adds settings to each worker, e.g.
# "--Workers:0:IntraOpThreads=1"), so gw2 measures the gateway's spreading, not two machines' worth of compute.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
ROUNDS=${ROUNDS:-3}
CONCURRENCY=${CONCURRENCY:-32}
REQUESTS=${REQUESTS:-512}
OUT=${OUT:-/tmp/mmserve-gateway-bench}
WORKER_ARGS=${WORKER_ARGS:-}
ARMS=${ARMS:-direct gw1 gw2}
API=$ROOT/src/MmServe.Api/bin/Release/net10.0/MmServe.Api.dll
GATEWAY=$ROOT/src/MmServe.Gateway/bin/Release/net10.0/MmServe.Gateway.dll
BENCH=$ROOT/bench/MmServe.Bench/bin/Release/net10.0/MmServe.Bench.dll
mkdir -p "$OUT"
pids=()

wait_ok() { # url
  for _ in $(seq 1 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done
  echo "$1 never answered 200" >&2; exit 1
}

worker() { # rest-port grpc-port
  if curl -s -o /dev/null "http://127.0.0.1:$1/health/live"; then echo "port $1 is busy" >&2; exit 1; fi
  (cd "$(dirname "$API")" && exec dotnet "$API" --urls "http://127.0.0.1:$1" --Grpc:Host=127.0.0.1 --Grpc:Port="$2" $WORKER_ARGS) > "$OUT/worker-$1.log" 2>&1 &
  pids+=($!)
  wait_ok "http://127.0.0.1:$1/health/ready"
}

gateway() { # worker rest ports...
  local args=() i=0
  for port in "$@"; do
    args+=("--Gateway:Workers:$i:Rest=http://127.0.0.1:$port" "--Gateway:Workers:$i:Grpc=http://127.0.0.1:$((port + 1))")
    i=$((i + 1))
  done
  (cd "$(dirname "$GATEWAY")" && exec dotnet "$GATEWAY" --urls http://127.0.0.1:8080 --Gateway:Grpc:Host=127.0.0.1 --Gateway:Grpc:Port=8081 "${args[@]}") > "$OUT/gateway.log" 2>&1 &
  pids+=($!)
  wait_ok http://127.0.0.1:8080/health/ready
  sleep 3 # every worker healthy and its load reported, not only the first
}

stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  pids=()
}
trap stop_all EXIT

for round in $(seq 1 "$ROUNDS"); do
  for arm in $ARMS; do
    case $arm in
      direct) worker 8090 8091; url=http://127.0.0.1:8090 ;;
      gw1) worker 8090 8091; gateway 8090; url=http://127.0.0.1:8080 ;;
      gw2) worker 8090 8091; worker 8092 8093; gateway 8090 8092; url=http://127.0.0.1:8080 ;;
    esac
    echo "=== $arm round $round"
    dotnet "$BENCH" --url "$url" --concurrency "$CONCURRENCY" --num-requests "$REQUESTS" --max-tokens 64 --ignore-eos --warmup 16 \
      --output-json "$OUT/$arm-$round.json" | grep -E "Successful|Failed|Output token throughput|Median TTFT|Median TPOT"
    stop_all
  done
done

python3 - "$OUT" "$ROUNDS" $ARMS <<'PY'
import json, statistics, sys
out, rounds, arms = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
runs = {arm: [json.load(open(f"{out}/{arm}-{r}.json"))["runs"][0] for r in range(1, rounds + 1)] for arm in arms}
print("round  " + "  ".join(f"{arm} tok/s, TTFT p50 ms" for arm in arms))
for i in range(rounds):
    print(f"{i + 1:5}  " + "  ".join(f"{runs[arm][i]['output_throughput']:8.0f}, {runs[arm][i]['median_ttft_ms']:7.1f}" for arm in arms))
median = statistics.median
if "direct" in runs and "gw2" in runs:
    print(f"throughput gw2/direct per round: {[round(runs['gw2'][i]['output_throughput'] / runs['direct'][i]['output_throughput'], 2) for i in range(rounds)]}, "
          f"median {median([runs['gw2'][i]['output_throughput'] / runs['direct'][i]['output_throughput'] for i in range(rounds)]):.2f}x")
if "direct" in runs and "gw1" in runs:
    print(f"TTFT p50 added by the gateway (gw1 - direct) per round: {[round(runs['gw1'][i]['median_ttft_ms'] - runs['direct'][i]['median_ttft_ms'], 1) for i in range(rounds)]} ms, "
          f"median {median([runs['gw1'][i]['median_ttft_ms'] - runs['direct'][i]['median_ttft_ms'] for i in range(rounds)]):+.1f} ms")
print(f"failed requests: {sum(r['failed'] for arm in runs.values() for r in arm)}")
PY

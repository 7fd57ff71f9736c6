#!/usr/bin/env bash
# MmServe vs ONNX Runtime GenAI on the same ORT GenAI folder and the same request stream (bench/MmServe.PeerBench):
# builds both in Release, starts the server on the folder, runs every arm alternated at every load point, prints the
# table, stops the server.
#   bash bench/scripts/peer-bench.sh                                  # models/conformance/genai-tiny, defaults below
#   FOLDER=models/conformance/genai-tiny-gqa RUNS=5 bash bench/scripts/peer-bench.sh --concurrency 16 --workloads uniform
# Extra arguments go to MmServe.PeerBench (README there: --workloads, --concurrency, --rate, --poisson-batch,
# --requests, --uniform-output, --runs, --arms, --warmup-requests). The server is started directly (not in a subshell) so
# `kill` stops it; the mmserve-inproc arm (no HTTP) is a child process of MmServe.PeerBench.
set -euo pipefail
cd "$(dirname "$0")/../.."
FOLDER=${FOLDER:-models/conformance/genai-tiny}
PORT=${PORT:-8093}
RUNS=${RUNS:-3}

dotnet build src/MmServe.Api -c Release -v q --nologo >/dev/null
dotnet build bench/MmServe.PeerBench -c Release -v q --nologo >/dev/null
dotnet build bench/MmServe.PeerBench.InProcess -c Release -v q --nologo >/dev/null
if curl -s -o /dev/null "http://127.0.0.1:$PORT/health/live"; then echo "port $PORT is busy" >&2; exit 1; fi

dotnet src/MmServe.Api/bin/Release/net10.0/MmServe.Api.dll --urls "http://127.0.0.1:$PORT" --Grpc:Enabled=false \
    --Model:Path="$PWD/$FOLDER" --Engine:MaxBatchSize=32 > /tmp/peer-bench-server.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 1; done
kill -0 $pid || { echo "the server died; see /tmp/peer-bench-server.log" >&2; exit 1; }

echo "server pid $pid on $FOLDER; $(nproc) cores; $(date -u +%FT%TZ); commit $(git rev-parse --short HEAD)" >&2
dotnet bench/MmServe.PeerBench/bin/Release/net10.0/MmServe.PeerBench.dll \
    --url "http://127.0.0.1:$PORT" --model-folder "$FOLDER" --model-id "$(basename "$FOLDER")" --runs "$RUNS" "$@"

#!/usr/bin/env bash
# Builds the GPU flavour of the server (-p:OrtFlavor=cuda: Microsoft.ML.OnnxRuntime.Gpu.Linux) into its own folder
# and checks that the built process tells the truth about CUDA on this machine:
#   - no usable CUDA (no GPU, driver, CUDA 13 or cuDNN 9; the CI machine): Workers:0:Device=cuda stops the server with
#     exit code 1 and one stderr line naming Workers:0:Device and the library that failed to load; with
#     Workers:0:AllowCpuFallback=true it starts, answers a golden prompt, and /v1/models reports flavour "cuda",
#     execution provider CPUExecutionProvider, the fallback reason and a host KV cache;
#   - usable CUDA: the server starts on CUDAExecutionProvider with its KV cache on cuda:0 and answers the prompt.
# .ci/run calls it before the test suite. Usage: bash bench/scripts/gpu-flavour-smoke.sh [output folder]
# (default bin/ort-cuda, ignored by git); SKIP_BUILD=1 reuses a folder built before.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-bin/ort-cuda}
MODEL=$PWD/models/mmserve-tiny

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    dotnet build -p:OrtFlavor=cuda src/MmServe.Api -o "$OUT" -nologo -v quiet
fi
[ -f "$OUT/MmServe.Api.dll" ] || { echo "gpu-flavour-smoke: $OUT/MmServe.Api.dll is missing" >&2; exit 1; }
[ -f "$OUT/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so" ] \
    || { echo "gpu-flavour-smoke: $OUT has no CUDA execution provider: not the GPU flavour" >&2; exit 1; }

LOG=$(mktemp -d)
PID=""
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; rm -rf "$LOG"; }
trap cleanup EXIT
fail() { echo "gpu-flavour-smoke: FAIL: $*" >&2; for f in "$LOG"/*; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }

PORT=$((20000 + RANDOM % 20000))
if curl -s -o /dev/null "http://127.0.0.1:$PORT/health/live"; then fail "port $PORT is busy"; fi
ARGS=(--urls "http://127.0.0.1:$PORT" --Grpc:Host=127.0.0.1 --Grpc:Port=0 "--Model:Path=$MODEL" --Workers:0:Device=cuda:0)

# Starts the server in the background with extra settings; returns 0 once ready, 1 if it exited first (status in $LOG/rc).
start() {
    dotnet "$OUT/MmServe.Api.dll" "${ARGS[@]}" "$@" >"$LOG/stdout" 2>"$LOG/stderr" &
    PID=$!
    for _ in $(seq 1 120); do
        if ! kill -0 "$PID" 2>/dev/null; then
            set +e; wait "$PID"; echo $? >"$LOG/rc"; set -e
            PID=""
            return 1
        fi
        curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && return 0
        sleep 1
    done
    fail "the server was not ready within 120 s"
}

stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

# A golden greedy answer of mmserve-tiny (models/mmserve-tiny/golden/cases.json, text_after_065).
answer() {
    local reply
    reply=$(curl -sf "http://127.0.0.1:$PORT/v1/chat/completions" -H 'Content-Type: application/json' \
        -d '{"model":"mmserve-tiny","temperature":0,"messages":[{"role":"user","content":"What number comes after five?"}]}') \
        || fail "chat completion failed"
    grep -q '"content":"six"' <<<"$reply" || fail "expected the golden answer \"six\", got: $reply"
}

expect() { grep -qF -- "$2" <<<"$1" || fail "/v1/models lacks $2: $1"; }

if start; then
    models=$(curl -sf "http://127.0.0.1:$PORT/v1/models")
    expect "$models" '"onnxruntime":{"flavor":"cuda"'
    expect "$models" '"device":"cuda:0","execution_provider":"CUDAExecutionProvider","kv_cache":"cuda:0"'
    answer
    stop
    echo "gpu-flavour-smoke: OK: CUDA is usable here; worker 0 runs on CUDAExecutionProvider with its KV cache on cuda:0"
    exit 0
fi

rc=$(cat "$LOG/rc")
[ "$rc" = 1 ] || fail "without CUDA the server should exit with 1, got $rc"
[ "$(grep -c . "$LOG/stderr")" = 1 ] || fail "expected one line on stderr"
line=$(cat "$LOG/stderr")
grep -qF "mmserve: failed to start: Workers:0:Device 'cuda:0' asks for CUDA, but the CUDA execution provider could not be started" <<<"$line" \
    || fail "unexpected start-up error: $line"
grep -qF "Workers:0:AllowCpuFallback=true" <<<"$line" || fail "the error does not name Workers:0:AllowCpuFallback: $line"
echo "gpu-flavour-smoke: no usable CUDA here; start-up error: ${line#mmserve: failed to start: }"

start --Workers:0:AllowCpuFallback=true || fail "with AllowCpuFallback the server did not start (exit $(cat "$LOG/rc"))"
models=$(curl -sf "http://127.0.0.1:$PORT/v1/models")
expect "$models" '"onnxruntime":{"flavor":"cuda"'
expect "$models" '"device":"cuda:0","execution_provider":"CPUExecutionProvider","fallback_reason":"the CUDA execution provider could not be started'
# Fallen back to CPU, the worker runs the bundle's shared-KV-buffer decoder (docs/architecture.md).
expect "$models" '"kv_cache":"host (shared buffer)"'
grep -q "runs on CPU because the CUDA execution provider could not be started" "$LOG/stdout" || fail "no fallback warning in the log"
answer
stop
echo "gpu-flavour-smoke: OK: the GPU flavour falls back to CPUExecutionProvider only when allowed, and says so in /v1/models and the log"

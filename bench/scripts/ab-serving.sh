#!/usr/bin/env bash
# A/B of two Release builds of the server under the same load, alternated ROUNDS times on one port:
#   git clone -q . /tmp/before && git -C /tmp/before checkout -q <old commit>   (likewise /tmp/after at the new one)
#   (cd /tmp/before && dotnet build src/MmServe.Api -c Release && dotnet build bench/MmServe.Bench -c Release)
#   (cd /tmp/after && dotnet build src/MmServe.Api -c Release)
#   ROUNDS=3 bash bench/scripts/ab-serving.sh
# Each server is started directly (not in a subshell) so that `kill` stops it: a server left running would hold the
# port, the next build's server would fail to bind, and the load would silently go to the old one.
set -u
BENCH=/tmp/before/bench/MmServe.Bench/bin/Release/net10.0/MmServe.Bench.dll
ROUNDS=${ROUNDS:-3}
for round in $(seq 1 $ROUNDS); do
  for build in before after; do
    if curl -s -o /dev/null http://127.0.0.1:8090/health/live; then echo "port 8090 is busy" >&2; exit 1; fi
    cd /tmp/$build
    dotnet src/MmServe.Api/bin/Release/net10.0/MmServe.Api.dll --urls http://127.0.0.1:8090 --Grpc:Enabled=false > /tmp/server-$build-$round.log 2>&1 &
    pid=$!
    cd /tmp
    for i in $(seq 1 120); do curl -sf http://127.0.0.1:8090/health/ready >/dev/null && break; sleep 1; done
    kill -0 $pid || { echo "server $build died" >&2; exit 1; }
    echo "=== $build round $round (pid $pid, cwd $(readlink /proc/$pid/cwd))"
    dotnet $BENCH --url http://127.0.0.1:8090 --sweep 1,16 --num-requests 1024 --max-tokens 64 --ignore-eos --warmup 8 2>&1 | tail -7
    kill $pid; wait $pid 2>/dev/null
  done
done

#!/usr/bin/env python3
"""What one gateway hop costs a single request, with nothing else in flight: sequential 1-token chat requests on one
keep-alive connection, alternating between a worker and a gateway in front of it, after a warm-up (JIT tiering).

  python3 bench/scripts/gateway-hop.py --direct http://127.0.0.1:8090 --gateway http://127.0.0.1:8080
"""
import argparse, http.client, json, statistics, time, urllib.parse

parser = argparse.ArgumentParser()
parser.add_argument("--direct", required=True)
parser.add_argument("--gateway", required=True)
parser.add_argument("--requests", type=int, default=500)
parser.add_argument("--rounds", type=int, default=3)
args = parser.parse_args()
body = json.dumps({"model": "mmserve-tiny", "temperature": 0, "max_tokens": 1,
                   "messages": [{"role": "user", "content": "Hello!"}]}).encode()


def latencies(url, n):
    u = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(u.hostname, u.port)
    out = []
    for _ in range(n):
        start = time.perf_counter()
        connection.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        out.append((time.perf_counter() - start) * 1000)
    return out


for url in (args.direct, args.gateway):
    latencies(url, 1000)  # warm-up
for round in range(1, args.rounds + 1):
    direct = latencies(args.direct, args.requests)
    gateway = latencies(args.gateway, args.requests)
    print(f"round {round}: p50 direct {statistics.median(direct):.2f} ms, through the gateway {statistics.median(gateway):.2f} ms, "
          f"added {statistics.median(gateway) - statistics.median(direct):+.2f} ms")

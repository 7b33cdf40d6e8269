#!/usr/bin/env bash
# Runs the whole benchmark suite (BenchmarkDotNet classes and the console modes) and keeps
# every output under BenchmarkDotNet.Artifacts/ (not committed). About 12 minutes on 2 cores (routing: 2–3); needs
# memcached, memcaslap, redis-server and PostgreSQL 15 on PATH (the remote benchmarks start their own servers).
set -euo pipefail
cd "$(dirname "$0")/.."
project=benchmarks/CachePatterns.Benchmarks
out=BenchmarkDotNet.Artifacts/console
mkdir -p "$out"
dotnet build -c Release "$project" -nologo -clp:ErrorsOnly
run() { dotnet run -c Release --no-build --project "$project" -- "$@"; }
run --filter '*' 2>&1 | tee "$out/bdn.log"
run hitpath 2>&1 | tee "$out/hitpath.md"
run hybridhit 2>&1 | tee "$out/hybridhit.md"
run hitratio 2>&1 | tee "$out/hitratio.md"
run stampede 2>&1 | tee "$out/stampede.md"
# Needs PostgreSQL 15's server programs (apt-get install postgresql); starts throw-away clusters on loopback.
run routing 2>&1 | tee "$out/routing.md"
run mcthroughput 10 3 2>&1 | tee "$out/mcthroughput.md"
run redisthroughput 2>&1 | tee "$out/redisthroughput.md"
run redisstampede 2>&1 | tee "$out/redisstampede.md"
run redisalloc 2>&1 | tee "$out/redisalloc.md"
run redislayers 2>&1 | tee "$out/redislayers.md"

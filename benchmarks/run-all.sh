#!/usr/bin/env bash
# Runs the whole benchmark suite (BenchmarkDotNet classes and the console modes) and keeps
# every output under BenchmarkDotNet.Artifacts/ (not committed). About 10 minutes on 2 cores; needs
# memcached, memcaslap and redis-server on PATH (the remote benchmarks start their own servers).
set -euo pipefail
cd "$(dirname "$0")/.."
project=benchmarks/CachePatterns.Benchmarks
out=BenchmarkDotNet.Artifacts/console
mkdir -p "$out"
dotnet build -c Release "$project" -nologo -clp:ErrorsOnly
run() { dotnet run -c Release --no-build --project "$project" -- "$@"; }
run --filter '*' 2>&1 | tee "$out/bdn.log"
run hitpath 2>&1 | tee "$out/hitpath.md"
run hitratio 2>&1 | tee "$out/hitratio.md"
run stampede 2>&1 | tee "$out/stampede.md"
run mcthroughput 10 3 2>&1 | tee "$out/mcthroughput.md"

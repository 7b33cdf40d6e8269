#!/usr/bin/env bash
# Runs every test of the repository: builds the solution (warnings are errors), runs each test project,
# and smoke-runs the sample. Servers that a test project needs (redis-server, memcached, PostgreSQL, ...)
# are installed from Debian's packages when missing and this script runs as root; test fixtures start
# them as local processes on loopback ports. Prints a closing line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"

configuration=${CONFIGURATION:-Release}

# Debian packages each test project needs; a project that does not exist yet needs nothing.
declare -A needs=(
  [tests/CachePatterns.Redis.Tests]="redis-server redis-tools openssl"
  [tests/CachePatterns.Memcached.Tests]="memcached libmemcached-dev libmemcached-tools gcc"
  [tests/CachePatterns.Routing.Tests]="postgresql postgresql-client openssl mariadb-server mariadb-client"
  [tests/SessionStore.Tests]="redis-server chromium chromium-driver postgresql postgresql-client openssl"
)

missing=()
for project in "${!needs[@]}"; do
  [ -d "$project" ] || continue
  for package in ${needs[$project]}; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${missing[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test.sh: the tests need these Debian packages, which are missing: ${missing[*]}" >&2
    echo "test.sh: run as root to install them, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

command -v dotnet >/dev/null || { echo "test.sh: the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }

dotnet build CachePatterns.sln -c "$configuration" -nologo -clp:ErrorsOnly

log=$(mktemp)
status=0
for project in tests/*/*.csproj; do
  # Helpers the tests start as child processes (tests/CachePatterns.ConsistencyHost) are built, not run.
  grep -q '<IsTestProject>true</IsTestProject>' "$project" || continue
  echo "test.sh: running $project"
  dotnet test "$project" -c "$configuration" --no-build -nologo 2>&1 | tee -a "$log" || status=1
done

echo "test.sh: smoke-running the catalogue sample"
if ! dotnet run -c "$configuration" --no-build --project samples/CatalogSample -- --operations 2000 > "$log.sample" 2>&1; then
  cat "$log.sample"
  echo "test.sh: the sample failed" >&2
  status=1
fi

summaries=$(grep -E '^(Passed|Failed)! ' "$log" || true)
passed=$(grep -oE 'Passed: +[0-9]+' <<<"$summaries" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' <<<"$summaries" | awk '{s+=$2} END {print s+0}')
rm -f "$log" "$log.sample"
[ "$failed" -eq 0 ] || status=1
[ "$passed" -gt 0 ] || { echo "test.sh: no test ran" >&2; status=1; }
echo "tests: $passed passed, $failed failed"
exit $status

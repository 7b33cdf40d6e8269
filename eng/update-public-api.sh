#!/usr/bin/env bash
# Adds every public symbol the PublicApiAnalyzers report as undeclared (RS0016) to the project's
# PublicAPI.Unshipped.txt, and drops declared symbols that no longer exist (RS0017).
# Usage: eng/update-public-api.sh src/CachePatterns  (or the .csproj path)
set -euo pipefail
project=${1:?project folder or .csproj}
[ -f "$project" ] && project=$(dirname "$project")
log=$(mktemp)
dotnet build "$project" -p:TreatWarningsAsErrors=false --no-incremental >"$log" 2>&1 || true
python3 - "$project/PublicAPI.Unshipped.txt" "$log" <<'PY'
import re, sys
path, log = sys.argv[1], sys.argv[2]
text = open(log).read()
add = set(m.group(1) for m in re.finditer(r"RS0016: Symbol '(.+?)' is not part of the declared public API", text))
remove = set(m.group(1) for m in re.finditer(r"RS0017: Symbol '(.+?)' is part of the declared API", text))
lines = [l.rstrip("\n") for l in open(path)]
header = [l for l in lines if l.startswith("#")] or ["#nullable enable"]
body = set(l for l in lines if l and not l.startswith("#"))
body = (body | add) - remove
open(path, "w").write("\n".join(header + sorted(body)) + "\n")
print(f"{path}: +{len(add)} -{len(remove)}")
PY
rm -f "$log"

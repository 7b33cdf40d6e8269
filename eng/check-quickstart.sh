#!/usr/bin/env bash
# Builds README.md's Quick start as a user would paste it: `dotnet new web`, the packages the README's
# `<!-- quickstart:packages -->` block adds (CachePatterns* from the packed packages, the others at the
# versions Directory.Packages.props names), each `<!-- quickstart:file NAME -->` block written to NAME,
# then `dotnet build` with warnings as errors. Fails when a block is missing, a package is not packed,
# or the code does not compile.
# Usage: eng/check-quickstart.sh [packed-packages-folder]   (default artifacts/packages, what .ci/run packs)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

packages=$(realpath "${1:-artifacts/packages}")
compgen -G "$packages/*.nupkg" >/dev/null || {
  echo "check-quickstart: no .nupkg in $packages; run: dotnet pack CachePatterns.sln -c Release -o $packages" >&2
  exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
app="$work/app"

dotnet new web -n QuickStart -o "$app" --no-restore >/dev/null
rm -f "$app/Program.cs"

# The global packages folder serves as an offline source for everything already restored once; the
# restore itself goes to a fresh folder, so a CachePatterns package restored by an earlier run is never reused.
global_packages=${NUGET_PACKAGES:-$HOME/.nuget/packages}

python3 - "$repo" "$packages" "$app" "$global_packages" <<'PY'
import glob, os, re, sys, xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

repo, packages, app, global_packages = sys.argv[1:5]

def fail(message):
    print(f"check-quickstart: {message}", file=sys.stderr)
    sys.exit(1)

# README blocks: a marker comment, then the next fenced block.
readme = open(os.path.join(repo, "README.md"), encoding="utf-8").read()
blocks = re.findall(r"<!--\s*quickstart:(\w+)\s*([^\s>]*)\s*-->\s*\n```[\w-]*\n(.*?)\n```", readme, re.S)
markers = len(re.findall(r"<!--\s*quickstart:", readme))
if markers != len(blocks):
    fail(f"README.md has {markers} quickstart markers but {len(blocks)} of them are followed by a fenced block")
files = [(name, body) for kind, name, body in blocks if kind == "file"]
added = [m for kind, _, body in blocks if kind == "packages" for m in re.findall(r"dotnet add package (\S+)", body)]
if not files or not added:
    fail("README.md needs a <!-- quickstart:packages --> block and at least one <!-- quickstart:file NAME --> block")
for name, body in files:
    if os.path.sep in name or name.startswith("."):
        fail(f"quickstart file name {name!r} must be a plain file name")
    with open(os.path.join(app, name), "w", encoding="utf-8") as f:
        f.write(body + "\n")

# Versions: ours from the packed file names (newest file wins), the others from central package management.
packed = {}
for path in sorted(glob.glob(os.path.join(packages, "*.nupkg")), key=os.path.getmtime):
    m = re.match(r"(.+?)\.(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\.nupkg$", os.path.basename(path))
    if m:
        packed[m.group(1).lower()] = (m.group(1), m.group(2))
props = ET.parse(os.path.join(repo, "Directory.Packages.props")).getroot()
variables = {e.tag: (e.text or "") for g in props.iter("PropertyGroup") for e in g}
central = {}
for e in props.iter("PackageVersion"):
    version = re.sub(r"\$\((\w+)\)", lambda v: variables.get(v.group(1), v.group(0)), e.get("Version"))
    central[e.get("Include").lower()] = version
references = []
for package in added:
    key = package.lower()
    if key == "cachepatterns" or key.startswith("cachepatterns."):
        if key not in packed:
            fail(f"README adds package {package}, which is not among the packed packages in {packages}")
        references.append((packed[key][0], packed[key][1]))
    elif key in central:
        references.append((package, central[key]))
    else:
        fail(f"README adds package {package}, which Directory.Packages.props does not name (add its version there)")

project = os.path.join(app, "QuickStart.csproj")
text = open(project, encoding="utf-8").read()
items = "".join(f"    <PackageReference Include={quoteattr(i)} Version={quoteattr(v)} />\n" for i, v in references)
text = text.replace("</Project>", f"  <ItemGroup>\n{items}  </ItemGroup>\n</Project>")
open(project, "w", encoding="utf-8").write(text)

# nuget.config: the packed folder (the only source of CachePatterns*), the global packages folder, the repo's sources.
sources = []
config = ET.parse(os.path.join(repo, "nuget.config")).getroot()
for section in config.iter("packageSources"):
    sources += [(e.get("key"), e.get("value")) for e in section.iter("add")]
lines = ["<configuration>", "  <packageSources>", "    <clear />",
         f"    <add key=\"packed\" value={quoteattr(packages)} />"]
if os.path.isdir(global_packages):
    lines.append(f"    <add key=\"restored\" value={quoteattr(global_packages)} />")
lines += [f"    <add key={quoteattr(k)} value={quoteattr(v)} />" for k, v in sources]
lines += ["  </packageSources>", "  <packageSourceMapping>",
          "    <packageSource key=\"packed\"><package pattern=\"CachePatterns\" /><package pattern=\"CachePatterns.*\" /></packageSource>"]
others = (["restored"] if os.path.isdir(global_packages) else []) + [k for k, _ in sources]
lines += [f"    <packageSource key={quoteattr(k)}><package pattern=\"*\" /></packageSource>" for k in others]
lines += ["  </packageSourceMapping>", "</configuration>"]
open(os.path.join(app, "nuget.config"), "w", encoding="utf-8").write("\n".join(lines) + "\n")

print("check-quickstart: " + ", ".join(f"{i} {v}" for i, v in references) + "; files " + ", ".join(n for n, _ in files))
PY

if ! NUGET_PACKAGES="$work/packages" dotnet build "$app" -c Release -nologo -clp:ErrorsOnly -warnaserror > "$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  echo "check-quickstart: README.md's Quick start does not build as pasted (see the errors above)" >&2
  exit 1
fi
echo "check-quickstart: README.md's Quick start builds"

# Run it: a write through the cache, then a read of the new value (the curl commands the README shows).
(cd "$app" && exec dotnet bin/Release/net10.0/QuickStart.dll --urls http://127.0.0.1:0 > "$work/run.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
url=
for _ in $(seq 1 300); do
  url=$(grep -oE 'Now listening on: http://127\.0\.0\.1:[0-9]+' "$work/run.log" | head -1 | sed 's/Now listening on: //') || true
  [ -n "$url" ] && break
  kill -0 $server 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  cat "$work/run.log" >&2
  echo "check-quickstart: the Quick start app did not start listening within 30 s" >&2
  exit 1
fi
curl -fsS -X PUT "$url/products/42" -H 'Content-Type: application/json' -d '{"name":"Teapot","price":9.99}'
answer=$(curl -fsS "$url/products/42")
missing=$(curl -s -o /dev/null -w '%{http_code}' "$url/products/43")
if [ "$answer" != '{"id":42,"name":"Teapot","price":9.99}' ] || [ "$missing" != 404 ]; then
  cat "$work/run.log" >&2
  echo "check-quickstart: the Quick start app answered $answer for product 42 and $missing for 43" >&2
  exit 1
fi
echo "check-quickstart: README.md's Quick start runs (PUT then GET of product 42: $answer)"

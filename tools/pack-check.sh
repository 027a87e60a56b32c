#!/usr/bin/env bash
# The package as a user gets it: pack napood, install the tarball into an empty project with npm
# --offline (after a warm-up install that fills npm's cache from the npm registry only: nothing
# else is fetched, no install script downloads anything), then run `npx napood --version` and
# the README's library examples (examples/library.mjs, examples/detector.mjs) there. Prints the packed size.
# Usage: tools/pack-check.sh   (from anywhere; needs dist/ built, e.g. by npm test)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export ONNXRUNTIME_NODE_INSTALL=skip
cd "$root"
tarball="$(npm pack --ignore-scripts --pack-destination "$work" --json 2>/dev/null | node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8"))[0]; console.error(`pack-check: ${d.filename}: ${d.size} bytes packed, ${d.unpackedSize} unpacked, ${d.files.length} files`); console.log(d.filename)')"
mkdir -p "$work/warm" "$work/app"
(cd "$work/warm" && npm init -y >/dev/null && npm install --prefer-offline --no-audit --no-fund --loglevel=error "$work/$tarball" >/dev/null)
cd "$work/app"
npm init -y >/dev/null
npm install --offline --no-audit --no-fund --loglevel=error "$work/$tarball" >/dev/null
test "$(npx --offline napood --version)" = "$(node -p "require('$root/package.json').version")"
cp "$root/examples/library.mjs" .
fx="$root/test/fixtures"
node library.mjs "$fx/pipeline/model.onnx" "$fx/images/tree" "$fx/images/tree" "$fx/images/extra" | grep -q 'FPR95↓ AUROC↑'
# The detector example: ID-val and ID-cal are two disjoint halves of the PNG fixtures (as @lists).
cp "$root/examples/detector.mjs" .
ls "$fx"/images/png/*.png | awk 'NR % 2 == 1' > val.txt
ls "$fx"/images/png/*.png | awk 'NR % 2 == 0' > cal.txt
node detector.mjs "$fx/pipeline/model.onnx" "$fx/images/tree" @val.txt @cal.txt "$fx/images/extra" | grep -q '^chosen: '
echo "pack-check: installed offline; npx napood --version, examples/library.mjs and examples/detector.mjs ran"

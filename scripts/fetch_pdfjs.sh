#!/usr/bin/env bash
# pdf.js for the chat page's PDF page view: the pinned pdfjs-dist from the npm registry, checked against the
# registry's sha512, unpacked into vendor/pdfjs-dist (git-ignored): the two modules, the CJK cmaps, the standard
# fonts, the image decoders and ICC profiles (about 5 MB of the 9 MB package). The server serves it at /pdfjs/;
# without it the page shows PDF citations as text. Safe to run again: nothing is fetched when the version is there.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=6.5.438
INTEGRITY=sha512-vg8Pw1x+AFKy4AMDvhuWl5cOYV8d698UoEANoFFhc79hqXDnZQqnOXoxw3HG907WHOg1JYOvLhP756boddFxpA==
DEST=vendor/pdfjs-dist
if [ "$(cat "$DEST/VERSION" 2>/dev/null)" = "$VERSION" ]; then exit 0; fi
if ! command -v npm >/dev/null; then
  echo "note: npm not found, pdf.js not installed: the page shows PDF citations as text, not on the page" >&2
  exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "pdfjs-dist@$VERSION" >/dev/null)
TARBALL="$WORK/pdfjs-dist-$VERSION.tgz"
GOT=$(node -e 'const fs = require("fs"), crypto = require("crypto");
process.stdout.write("sha512-" + crypto.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"));' "$TARBALL")
if [ "$GOT" != "$INTEGRITY" ]; then
  echo "pdfjs-dist $VERSION: the tarball's checksum is not the pinned one; not installed" >&2
  exit 1
fi
tar xzf "$TARBALL" -C "$WORK"
KEEP="$WORK/keep"
mkdir -p "$KEEP/build"
cp "$WORK/package/build/pdf.min.mjs" "$WORK/package/build/pdf.worker.min.mjs" "$KEEP/build/"
cp -r "$WORK/package/cmaps" "$WORK/package/standard_fonts" "$WORK/package/wasm" "$WORK/package/iccs" "$KEEP/"
cp "$WORK/package/LICENSE" "$KEEP/"
echo "$VERSION" >"$KEEP/VERSION"
# Swapped in whole: a server never sees half a copy.
mkdir -p vendor
rm -rf "$DEST.new" "$DEST.old"
mv "$KEEP" "$DEST.new"
[ -d "$DEST" ] && mv "$DEST" "$DEST.old"
mv "$DEST.new" "$DEST"
rm -rf "$DEST.old"

#!/usr/bin/env bash
# Refresh the browser libraries the app serves itself (no CDN: offline use and a strict CSP)
# from the npm registry, at the versions pinned here. Run from the repository's root; commit
# the result. Dash loads every .js/.css under assets/ on every page.
set -euo pipefail
LEAFLET=1.9.4
SUPERCLUSTER=8.0.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm install --silent --no-audit --no-fund "leaflet@$LEAFLET" "supercluster@$SUPERCLUSTER")
out=assets/vendor
rm -rf "$out" && mkdir -p "$out/images"
cp "$work/node_modules/leaflet/dist/leaflet.js" "$work/node_modules/leaflet/dist/leaflet.css" "$out/"
cp "$work/node_modules/leaflet/dist/images/"*.png "$out/images/"
cp "$work/node_modules/leaflet/LICENSE" "$out/LICENSE-leaflet"
cp "$work/node_modules/supercluster/dist/supercluster.min.js" "$out/"
cp "$work/node_modules/supercluster/LICENSE" "$out/LICENSE-supercluster"
cp "$work/node_modules/kdbush/LICENSE" "$out/LICENSE-kdbush"  # bundled inside supercluster.min.js
# leaflet.js ends with a source-map comment for a file not served
sed -i '/^\/\/# sourceMappingURL=/d' "$out/leaflet.js" "$out/supercluster.min.js"
printf 'leaflet %s\nsupercluster %s (with kdbush)\n' "$LEAFLET" "$SUPERCLUSTER" > "$out/VERSIONS"

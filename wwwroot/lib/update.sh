#!/usr/bin/env bash
# Copies the browser builds of the npm packages in wwwroot/lib/package.json into wwwroot/lib/. The copies are committed,
# so running StxmWeb needs no npm (and no CDN, which a closed beamline network cannot reach); run this only after
# changing a version in package.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp wwwroot/lib/package.json "$tmp/"
(cd "$tmp" && npm install --no-audit --no-fund --ignore-scripts >/dev/null)
mkdir -p wwwroot/lib/signalr
cp "$tmp/node_modules/@microsoft/signalr/dist/browser/signalr.min.js" wwwroot/lib/signalr/
cp "$tmp/node_modules/@microsoft/signalr-protocol-msgpack/dist/browser/signalr-protocol-msgpack.min.js" wwwroot/lib/signalr/
# signalr-protocol-msgpack bundles @msgpack/msgpack and attaches to the global signalR from signalr.min.js.
# The source maps are not shipped: drop the references to them.
sed -i "s|//# sourceMappingURL=.*||" wwwroot/lib/signalr/*.min.js
ls -la wwwroot/lib/signalr

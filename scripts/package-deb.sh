#!/usr/bin/env bash
# Build numaplace_VERSION_amd64.deb: the compiled daemon, its production node_modules and its own
# Node.js runtime (a copy of the node that runs this script: nothing is downloaded), the systemd
# unit, a default /etc/numaplace/numaplace.json (a conffile) and the man page.
#
# Usage: scripts/package-deb.sh [OUTDIR]     (default OUTDIR: dist/deb; prints the .deb's path)
# procps: the unit reloads with /bin/kill -HUP.
# Needs: dpkg-deb, gzip, npm (for `npm prune`); run `npm ci` first (the build uses node_modules).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/dist/deb}
die() { printf 'package-deb: error: %s\n' "$*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (Debian package dpkg)"
[ -d "$root/node_modules" ] || die "no node_modules in $root: run npm ci first"
node=$(command -v node) || die "node not found"
node_major=$("$node" -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "node $("$node" --version) is too old to ship (numaplace needs >= 20.19)"

cd "$root"
version=$("$node" -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
npm run build >/dev/null

stage=$(mktemp -d)
chmod 0755 "$stage"   # the package root: dpkg-deb records its mode for ./
trap 'rm -rf "$stage"' EXIT
app="$stage/usr/lib/numaplace"
mkdir -p "$app/bin" "$app/dist" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/numaplace" \
         "$stage/usr/share/man/man8" "$stage/usr/share/doc/numaplace" "$stage/DEBIAN"

# The application: compiled code, the package manifest, production dependencies only.
cp -r dist/src dist/solver "$app/dist/"
cp bin/numaplace.js "$app/bin/numaplace.js"
cp package.json package-lock.json "$app/"
cp -rL node_modules "$app/node_modules"
(cd "$app" && npm prune --omit=dev --no-audit --no-fund >/dev/null 2>&1) || die "npm prune --omit=dev failed"
rm -f "$app/package-lock.json"
# Its own runtime, so a host whose Debian ships an older Node.js (Debian 12: 18) runs it as tested.
cp "$node" "$app/bin/node"
strip --strip-unneeded "$app/bin/node" 2>/dev/null || true

cat >"$stage/usr/bin/numaplace" <<'SH'
#!/bin/sh
# numaplace runs on the Node.js runtime the package carries, whatever node the host has.
exec /usr/lib/numaplace/bin/node /usr/lib/numaplace/bin/numaplace.js "$@"
SH
chmod 0755 "$stage/usr/bin/numaplace"

# The unit as shipped in deploy/, started from the packaged binary.
sed 's|^ExecStart=.*|ExecStart=/usr/bin/numaplace run --config /etc/numaplace/numaplace.json|' \
  deploy/numaplace.service >"$stage/lib/systemd/system/numaplace.service"
grep -q '^ExecStart=/usr/bin/numaplace run' "$stage/lib/systemd/system/numaplace.service" || die "unit has no ExecStart to rewrite"
cp config/numaplace.json "$stage/etc/numaplace/numaplace.json"
gzip -9n <deploy/numaplace.8 >"$stage/usr/share/man/man8/numaplace.8.gz"
cp LICENSE "$stage/usr/share/doc/numaplace/copyright"
cp config/README.md "$stage/usr/share/doc/numaplace/configuration.md"
cp config/numaplace.schema.json "$stage/usr/share/doc/numaplace/"
cp deploy/prometheus-rules.yml deploy/prometheus-recording-rules.yml deploy/grafana-dashboard.json \
   deploy/prometheus-scrape.yml "$stage/usr/share/doc/numaplace/"

installed_kib=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$installed_kib/" \
  deploy/debian/control >"$stage/DEBIAN/control"
echo /etc/numaplace/numaplace.json >"$stage/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "deploy/debian/$s" "$stage/DEBIAN/$s"; done

mkdir -p "$out"
deb="$out/numaplace_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$stage" "$deb" >/dev/null
printf '%s\n' "$deb"

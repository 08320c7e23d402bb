#!/usr/bin/env bash
# Builds release/lintel_<version>-<revision>_<arch>.deb from a release tarball (scripts/release.sh),
# so the package holds exactly the tarball's bits, with plain dpkg-deb (files owned by root
# without fakeroot: --root-owner-group).
#   /usr/lib/lintel            code and production node_modules
#   /usr/bin/lintel            -> ../lib/lintel/bin/lintel
#   /etc/lintel/lintel.yaml    the example config, a conffile: an edited one survives upgrades
#   /lib/systemd/system/lintel.service, /usr/lib/sysusers.d/lintel.conf, /usr/lib/tmpfiles.d/lintel.conf
#   /usr/share/doc/lintel      README, docs, the example config and udev rules (site-specific, so
#                              not installed active)
# /var/lib/lintel is made by postinst (tmpfiles), not shipped: dpkg would own it root:root.
# Usage: build-deb.sh TARBALL [OUTDIR]   (OUTDIR default release/)
#   LINTEL_DEB_REVISION   Debian revision, default 1: a rebuild of the same version that must
#                         install as an upgrade needs a higher one
#   LINTEL_DEB_COMPRESSION  dpkg-deb -Z, default xz (none: fast, for tests)
set -euo pipefail
cd "$(dirname "$0")/.."
tarball=$1
out=${2:-release}
revision=${LINTEL_DEB_REVISION:-1}

work="$out/deb"
rm -rf "$work"
mkdir -p "$work/src"
tar -xzf "$tarball" -C "$work/src"
src=$(echo "$work"/src/lintel-*)
info="$(readlink -f "$src")/BUILD-INFO.json"
version=$(node -p 'require(process.argv[1]).version' "$info")
arch=$(dpkg --print-architecture)
root="$work/root"

install -d "$root/usr/lib/lintel" "$root/usr/bin" "$root/etc/lintel" "$root/lib/systemd/system" \
  "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d" "$root/usr/share/doc/lintel/examples" "$root/DEBIAN"
cp -a "$src/dist" "$src/node_modules" "$src/bin" "$src/examples" "$src/package.json" "$src/BUILD-INFO.json" "$root/usr/lib/lintel/"
ln -s ../lib/lintel/bin/lintel "$root/usr/bin/lintel"
install -m 644 "$src/examples/lintel.yaml" "$root/etc/lintel/lintel.yaml"
install -m 644 "$src/systemd/lintel.service" "$root/lib/systemd/system/lintel.service"
install -m 644 "$src/systemd/lintel.sysusers.conf" "$root/usr/lib/sysusers.d/lintel.conf"
install -m 644 "$src/systemd/lintel.tmpfiles.conf" "$root/usr/lib/tmpfiles.d/lintel.conf"
cp -a "$src/README.md" "$src/docs" "$root/usr/share/doc/lintel/"
install -m 644 "$src/examples/lintel.yaml" "$src/systemd/99-lintel-readers.rules" "$root/usr/share/doc/lintel/examples/"
install -m 644 packaging/debian/copyright "$root/usr/share/doc/lintel/copyright"
# npm leaves group-writable files in some packages; a system install is 0755/0644 throughout.
chmod -R u+rwX,go+rX,go-w "$root/usr" "$root/etc" "$root/lib"

# Depends: the Node major the natives were built for (better-sqlite3 is tied to its ABI), never
# below the supported 20.19, and the Debian packages that provide the shared libraries the
# native modules link (found with ldd and dpkg -S, so a new link is never missed).
major=$(node -p 'require(process.argv[1]).node.replace(/^v/, "").split(".")[0]' "$info")
floor=$([ "$major" -le 20 ] && echo 20.19 || echo "$major")
libs=$(find "$root/usr/lib/lintel/node_modules" -name '*.node' -exec ldd {} + | awk '/=>/ { print $3 }' | sort -u)
if echo "$libs" | grep -qx 'not'; then
  find "$root/usr/lib/lintel/node_modules" -name '*.node' -exec ldd {} + | grep -B20 'not found' >&2
  echo "build-deb: a native module links a library this machine lacks" >&2
  exit 1
fi
shlib_pkgs=$(for l in $libs; do dpkg -S "$(readlink -f "$l")" 2>/dev/null || dpkg -S "$l"; done | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')
depends="nodejs (>= $floor), nodejs (<< $((major + 1))), $shlib_pkgs, systemd | adduser"

installed_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version-$revision/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
  -e "s/@INSTALLED_SIZE@/$installed_kb/" packaging/debian/control.in >"$root/DEBIAN/control"
echo /etc/lintel/lintel.yaml >"$root/DEBIAN/conffiles"
install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"

deb="$out/lintel_${version}-${revision}_${arch}.deb"
dpkg-deb --root-owner-group -Z"${LINTEL_DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
rm -rf "$work"
echo "build-deb: $deb ($(du -h "$deb" | cut -f1)); Depends: $depends"

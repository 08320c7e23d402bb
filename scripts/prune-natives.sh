#!/usr/bin/env bash
# Drops what the native modules need only to be built, or only on other machines, from a staged
# production node_modules: compiler output and sources, and prebuilt binaries for other
# platforms. About 30 MB of the release; nothing Node loads at run time.
# Usage: prune-natives.sh NODE_MODULES PLATFORM ARCH   (PLATFORM/ARCH as Node names them)
set -euo pipefail
modules=$1 platform=$2 arch=$3

# better-sqlite3 loads build/Release/better_sqlite3.node (through `bindings`); the SQLite
# amalgamation, the object files and the test extension are build inputs and by-products.
sqlite="$modules/better-sqlite3"
[ -f "$sqlite/build/Release/better_sqlite3.node" ] || { echo "prune: better_sqlite3.node was not built" >&2; exit 1; }
find "$sqlite/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
find "$sqlite/build/Release" -mindepth 1 -maxdepth 1 ! -name better_sqlite3.node -exec rm -rf {} +
rm -rf "$sqlite/deps" "$sqlite/src"

# The serialport and HID bindings pick a prebuild directory named after the platform and arch
# (linux-x64, HID-linux-x64, HID_hidraw-linux-x64-musl, darwin-x64+arm64, ...). Keep this
# target's and drop the rest. "linux-arm" must not
# keep "linux-arm64": the name has to end, or go on with "-" or "+", after the arch.
for dir in "$modules/@serialport/bindings-cpp/prebuilds" "$modules/node-hid/prebuilds"; do
  [ -d "$dir" ] || continue
  for p in "$dir"/*; do
    base=$(basename "$p")
    if ! [[ "$base" =~ (^|-)"$platform-$arch"($|[-+]) ]]; then rm -rf "$p"; fi
  done
done
# On glibc (Debian) the musl builds can never load, and would only confuse the library check
# that turns what the natives link into the package's Depends.
if [ "$(node -p 'Boolean(process.report.getReport().header.glibcVersionRuntime)')" = true ]; then
  find "$modules/@serialport/bindings-cpp/prebuilds" "$modules/node-hid/prebuilds" -depth -name '*musl*' -exec rm -rf {} +
fi
# node-hid's bundled hidapi sources are only for a build from source.
rm -rf "$modules/node-hid/hidapi"

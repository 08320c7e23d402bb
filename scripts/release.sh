#!/usr/bin/env bash
# npm run release: the site artifact. Writes release/lintel-<version>-linux-<arch>.tar.gz (built
# code, production node_modules with native modules built for this machine's platform, Node ABI
# and libc, the systemd/sysusers/tmpfiles/udev files and the example config), then the .deb made
# from that same tree (scripts/build-deb.sh). A site installs either without TypeScript, npm or a
# compiler: nothing in them runs a package script at install time.
#
# Needs: Node and npm (the Node the site will run: the natives are built for its ABI), make and
# a C++ compiler, Node's headers (NodeSource ships /usr/include/node), and the npm registry or
# cache. Nothing else is downloaded: better-sqlite3 is built from source, not fetched as a
# prebuilt binary from GitHub, and node-gyp is pointed at the local headers.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(node -p 'require("./package.json").version')
platform=$(node -p process.platform)
arch=$(node -p process.arch)
name="lintel-$version-$platform-$arch"
stage="release/stage/$name"
tarball="release/$name.tar.gz"

# node-gyp downloads headers from nodejs.org unless told where they are; a release uses the
# headers of the Node it is built with, or stops.
if [ -z "${npm_config_nodedir:-}" ]; then
  nodedir=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
  if [ ! -f "$nodedir/include/node/node.h" ]; then
    echo "release: Node headers not found under $nodedir/include/node; install them or set npm_config_nodedir" >&2
    exit 1
  fi
  export npm_config_nodedir="$nodedir"
fi

# npm's bundled node-gyp, the one its install scripts would use.
node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$node_gyp" ] || { echo "release: npm's node-gyp not found at $node_gyp" >&2; exit 1; }
node_gyp=$(readlink -f "$node_gyp")

npm run build --silent

# release/ holds one build, the one made now, so `apt install ./release/lintel_*.deb` means it.
rm -rf release/stage release/lintel-*.tar.gz release/lintel_*.deb
mkdir -p "$stage"
cp package.json package-lock.json "$stage/"

# Every package with an install script must be one this script builds and verifies below: a new
# native dependency must not ship unbuilt because npm ci was told to skip scripts.
node -e '
  const known = new Set(["better-sqlite3", "@serialport/bindings-cpp", "node-hid"]);
  const lock = require("./package-lock.json");
  const unknown = Object.entries(lock.packages)
    .filter(([, p]) => p.hasInstallScript && !p.dev)
    .map(([path]) => path.replace(/^.*node_modules\//, ""))
    .filter((n) => !known.has(n));
  if (unknown.length) { console.error("release: install scripts not handled: " + unknown.join(", ")); process.exit(1); }
'

(
  cd "$stage"
  export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
  # Production dependencies only, and no package scripts: the lockfile's exact versions.
  npm ci --omit=dev --ignore-scripts --prefer-offline --no-progress --loglevel=warn
  # Then the three native modules' builds. better-sqlite3 from source with npm's own node-gyp
  # (its install script's prebuild-install would fetch a binary from GitHub first); the
  # serialport and HID bindings' install scripts check that their bundled N-API prebuild loads
  # here and compile only if it does not.
  # The compiler's output goes to a log, shown only if a build fails.
  log=../native-build.log
  if ! { (cd node_modules/better-sqlite3 && node "$node_gyp" rebuild --release --jobs=max) &&
    npm rebuild @serialport/bindings-cpp node-hid --ignore-scripts=false --foreground-scripts; } >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "release: a native module failed to build (log: release/stage/native-build.log)" >&2
    exit 1
  fi
)

scripts/prune-natives.sh "$stage/node_modules" "$platform" "$arch"

# npm only warns when a native build fails. Load each from the staged tree, with nothing else on
# the module path, and use it once.
(
  cd "$stage"
  env -u NODE_PATH -u NODE_OPTIONS node -e '
    const db = new (require("better-sqlite3"))(":memory:");
    const sqlite = db.prepare("select sqlite_version() as v").get().v;
    db.close();
    require("node-hid").devices();
    // Listing ports would need udevadm; the binding loading and exposing open is the check.
    if (typeof require("@serialport/bindings-cpp/dist/serialport-bindings").binding.open !== "function") throw new Error("serialport binding incomplete");
    console.log(`release: native modules load (SQLite ${sqlite}, Node ${process.version}, ABI ${process.versions.modules})`);
  '
)

# The shipped package.json keeps what Node reads at run time ("type": "module", the version the
# CLI prints) and drops the development scripts and dependencies, which mean nothing here.
node -e '
  const fs = require("fs");
  const f = process.argv[1];
  const p = JSON.parse(fs.readFileSync(f, "utf8"));
  const keep = ["name", "version", "description", "type", "license", "private", "engines", "bin", "dependencies"];
  const out = Object.fromEntries(keep.filter((k) => k in p).map((k) => [k, p[k]]));
  out.bin = { lintel: "bin/lintel" };
  fs.writeFileSync(f, JSON.stringify(out, null, 2) + "\n");
' "$stage/package.json"
rm "$stage/package-lock.json"

# The gateway's code only: tests and benches are not part of a site install, and the source maps
# point at TypeScript that is not shipped.
mkdir -p "$stage/dist" "$stage/bin" "$stage/examples" "$stage/systemd"
(cd dist && find src -name '*.js' -exec cp --parents -t "../$stage/dist" {} +)
install -m 755 packaging/lintel "$stage/bin/lintel"
# The demo reads its sample cards from examples/ next to dist/.
cp examples/lintel.yaml examples/cards.csv "$stage/examples/"
cp systemd/lintel.service systemd/lintel.sysusers.conf systemd/lintel.tmpfiles.conf systemd/99-lintel-readers.rules "$stage/systemd/"
cp -r README.md docs "$stage/"
node -e '
  const info = {
    version: process.argv[1],
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    nodeAbi: process.versions.modules,
    commit: process.argv[2],
  };
  console.log(JSON.stringify(info, null, 2));
' "$version" "$(git describe --always --dirty 2>/dev/null || echo unknown)" >"$stage/BUILD-INFO.json"

# A reproducible-ish archive: sorted names, root-owned, one mtime.
mtime=$(git log -1 --format=%cI 2>/dev/null || date -u +%FT%TZ)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" -C release/stage -czf "$tarball" "$name"
echo "release: $tarball ($(du -h "$tarball" | cut -f1))"

scripts/build-deb.sh "$tarball"

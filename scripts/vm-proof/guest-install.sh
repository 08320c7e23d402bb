# Proof step "install": the README's "Install on Debian" block on a fresh Debian 12, line by line
# as written, in /proof (a checkout's place: ./release/ holds the first build's .deb, cards.csv
# the example card list).
source /proof/lib/guest-lib.sh
section='### Install on Debian'

echo "deviation: Node.js 20 is the build host's NodeSource package repacked with dpkg-repack (this VM cannot reach NodeSource, the README's route):"
echo '$ sudo apt install ./offline/nodejs_*.deb'
sudo apt install ./offline/nodejs_*.deb
check "node $(node --version)"

mapfile -t lines < <(readme_lines "$section" 1)
[ "${#lines[@]}" -gt 0 ] || { echo "README: no install block" >&2; exit 1; }
for line in "${lines[@]}"; do
  case $line in
  *'npm run release'*)
    echo "deviation: '$line' ran on the build host (same Debian release, architecture and Node major), the proof's build step"
    continue
    ;;
  sudoedit*)
    echo "deviation: '$line' is an interactive editor; the site's edit (embedded broker, two doors, no readers, no platform) is put in place with:"
    echo '$ sudo cp /proof/site.yaml /etc/lintel/lintel.yaml'
    sudo cp /proof/site.yaml /etc/lintel/lintel.yaml
    continue
    ;;
  esac
  run_readme "$line"
  case $line in
  *'apt install'*)
    check "installed $(dpkg-query -W -f='${Package} ${Version} ${Status}' lintel)"
    check "user: $(id lintel)"
    check "data dir: $(stat -c '%U:%G %a %n' /var/lib/lintel)"
    [ "$(stat -c '%U %a' /var/lib/lintel)" = "lintel 750" ]
    state=$(systemctl is-enabled lintel || true)
    [ "$state" = disabled ] || { echo "lintel is '$state' right after the install: the package must enable nothing" >&2; exit 1; }
    check "systemctl is-enabled lintel: $state; is-active: $(systemctl is-active lintel || true)"
    # The unit, as this systemd reads it: unknown keys, bad paths or a missing ExecStart fail here.
    systemd-analyze verify /lib/systemd/system/lintel.service
    check "systemd-analyze verify lintel.service: clean"
    ;;
  *'enable --now'*)
    wait_active
    health
    [ "$(started_lines)" -ge 1 ] || { echo "no 'lintel started' line in the journal" >&2; exit 1; }
    check "journal: $(journalctl -u lintel -b --no-pager -o cat | grep -m1 'lintel started')"
    ;;
  esac
done

expect_people 'ana@example.com li@example.com old@example.com sam@example.com'

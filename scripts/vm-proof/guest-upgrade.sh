# Proof step "upgrade": the README's upgrade block (install section) with a newer build of the
# package (Debian revision 2, in /proof/upgrade/release/), over the running gateway: it must be
# restarted once on the new build, with the edited config and the data kept.
source /proof/lib/guest-lib.sh
section='### Install on Debian'
old_version=$(dpkg-query -W -f='${Version}' lintel)
old_pid=$(systemctl show -p MainPID --value lintel)
old_starts=$(started_lines)
check "before: lintel $old_version, pid $old_pid"

cd /proof/upgrade
mapfile -t lines < <(readme_lines "$section" 2)
[ "${#lines[@]}" -gt 0 ] || { echo "README: no upgrade block" >&2; exit 1; }
for line in "${lines[@]}"; do
  case $line in
  *'npm run release'*)
    echo "deviation: '$line' ran on the build host (LINTEL_DEB_REVISION=2 npm run release), the proof's build step"
    continue
    ;;
  esac
  run_readme "$line"
done

new_version=$(dpkg-query -W -f='${Version}' lintel)
[ "$new_version" != "$old_version" ] || { echo "still $old_version after the upgrade" >&2; exit 1; }
check "after: lintel $new_version"
wait_active
new_pid=$(systemctl show -p MainPID --value lintel)
[ "$new_pid" != "$old_pid" ] || { echo "same pid $old_pid: the gateway was not restarted on the new build" >&2; exit 1; }
[ "$(started_lines)" -eq $((old_starts + 1)) ] || { echo "expected one more 'lintel started' line, journal has $(started_lines) (was $old_starts)" >&2; exit 1; }
check "restarted once on the new build: pid $old_pid -> $new_pid"
health
cmp /proof/site.yaml /etc/lintel/lintel.yaml
check "/etc/lintel/lintel.yaml: the site's edit, kept"
expect_people 'ana@example.com li@example.com old@example.com sam@example.com'

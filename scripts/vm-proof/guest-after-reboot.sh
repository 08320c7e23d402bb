# Proof step "reboot", second half: a new boot, and the gateway came up by itself (nothing here
# starts it), with the data it had.
source /proof/lib/guest-lib.sh
before=$(cat /proof/results/boot-before-reboot)
now=$(cat /proc/sys/kernel/random/boot_id)
[ "$before" != "$now" ] || { echo "still the same boot ($now): the guest did not reboot" >&2; exit 1; }
check "new boot $now (was $before)"
check "systemctl is-enabled lintel: $(systemctl is-enabled lintel)"
wait_active
health
[ "$(started_lines)" -ge 1 ] || { echo "no 'lintel started' line in this boot's journal" >&2; exit 1; }
check "journal (this boot): $(journalctl -u lintel -b --no-pager -o cat | grep -m1 'lintel started')"
check "NRestarts=$(systemctl show -p NRestarts --value lintel)"
expect_people 'ana@example.com li@example.com old@example.com sam@example.com'

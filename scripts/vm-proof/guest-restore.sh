# Proof step "backup and restore": the README's commands. A backup of the running gateway, then a
# change (one more person, imported), then the restore: refused over the changed data by the
# plain command (exit 3, nothing written), done by the rollback command (--force); the gateway
# starts on the restored data.
source /proof/lib/guest-lib.sh
section='## Backup and restore'
original='ana@example.com li@example.com old@example.com sam@example.com'

run_readme "$(readme_line "$section" 1 'lintel backup')"
check "archive: $(stat -c '%a %s bytes' /var/backups/lintel.tar.gz); $(tar -tzf /var/backups/lintel.tar.gz | paste -sd' ')"

echo '$ sudo -u lintel lintel cards import cards-changed.csv   # the change the restore must undo'
sudo -u lintel lintel cards import cards-changed.csv
expect_people "$original vm@example.com"

plain=$(readme_line "$section" 1 'lintel restore /')
set +e
run_readme "$plain"
rc=$?
set -e
[ "$rc" -eq 3 ] || { echo "the plain restore over changed data exited $rc, not 3 (refused)" >&2; exit 1; }
check "plain restore over changed data: refused, exit 3; lintel is $(systemctl is-active lintel || true)"

run_readme "$(readme_line "$section" 1 'lintel restore --force')"
wait_active
health
expect_people "$original"
check "the replaced database kept aside: $(cd /var/lib/lintel && ls -d lintel.db.before-restore.* | paste -sd' ')"
check "data dir after restore: $(stat -c '%U:%G %a' /var/lib/lintel/lintel.db) lintel.db"

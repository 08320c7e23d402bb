# Proof step "reboot", first half: note this boot, then reboot the guest as an operator would.
# The agent starts again after the boot; the host's next job (guest-after-reboot.sh) checks.
source /proof/lib/guest-lib.sh
cat /proc/sys/kernel/random/boot_id >/proof/results/boot-before-reboot
sync
echo '$ sudo systemctl reboot'
sudo systemctl reboot

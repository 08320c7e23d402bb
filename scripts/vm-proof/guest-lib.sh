# Sourced by the proof's guest jobs (scripts/vm-proof/guest-*.sh, run by guest-agent.sh as root
# in /proof, the 9p share holding the README, the .debs and these scripts).
# The commands a step documents are read from the README in the share and run as written, so
# the proof follows the README of the checkout it was built from, word for word; where a
# command cannot run here as written the job says so on its own line ("deviation:").
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
readme=/proof/README.md

# The comment-stripped lines of the $2-th sh block (from 1) of README section $1, a heading line
# as written (the section ends at the next heading of level 1 to 3).
readme_lines() {
  awk -v head="$1" -v want="$2" '
    $0 == head { on = 1; next }
    on && !code && /^(#|##|###) / { exit }
    on && /^```sh$/ { n++; code = (n == want); next }
    on && /^```$/ { code = 0; next }
    on && code && /^[ \t]*#/ { next }
    on && code { sub(/[ \t]+#.*$/, ""); if ($0 != "") print }
  ' "$readme"
}

# The one line of that block that contains $3 (a fixed string); none or several is an error.
readme_line() {
  local found
  found=$(readme_lines "$1" "$2" | grep -F -- "$3") || { echo "README: no command with '$3' in block $2 of '$1'" >&2; return 1; }
  [ "$(printf '%s\n' "$found" | wc -l)" -eq 1 ] || { echo "README: several commands with '$3' in block $2 of '$1'" >&2; return 1; }
  printf '%s\n' "$found"
}

# Runs a README command as written (a shell line: globs, && and redirections as in the README).
run_readme() {
  echo "\$ $1"
  bash -euo pipefail -c "$1"
}

check() { echo "check: $*"; }

# Waits while lintel is starting (Type=notify: "activating" until READY), then wants "active".
wait_active() {
  local state
  for _ in $(seq 1 180); do
    state=$(systemctl is-active lintel || true)
    case $state in
    activating | reloading | deactivating) sleep 0.5 ;;
    active)
      check "systemctl is-active lintel: active (pid $(systemctl show -p MainPID --value lintel))"
      return 0
      ;;
    *) break ;;
    esac
  done
  echo "lintel is $state" >&2
  systemctl status lintel --no-pager >&2 || true
  journalctl -u lintel -b --no-pager | tail -40 >&2
  return 1
}

health() {
  local body
  body=$(curl -fsS --max-time 5 http://127.0.0.1:8080/health)
  check "GET http://127.0.0.1:8080/health: 200 ${body:0:160}"
}

# How many times this boot's journal has the gateway's start line.
started_lines() {
  journalctl -u lintel -b --no-pager -o cat | grep -c 'lintel started' || true
}

people() {
  sudo -u lintel lintel people list --json | python3 -c 'import json, sys; d = json.load(sys.stdin); rows = d if isinstance(d, list) else d.get("people", d.get("items", [])); print(" ".join(sorted(p["email"] for p in rows)))'
}

expect_people() {
  local got
  got=$(people)
  [ "$got" = "$1" ] || { echo "people: expected '$1', got '$got'" >&2; return 1; }
  check "people: $got"
}

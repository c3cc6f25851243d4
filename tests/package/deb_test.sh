#!/usr/bin/env bash
# The promptwall .deb, end to end, as a server administrator meets it:
#
#   cpack -G DEB ─► dpkg -i (postinst: user, directories, token; starts nothing: systemd is not
#   running here) ─► layout, owners, modes, conffiles, `systemd-analyze verify` and `security`
#   ─► the unit started BY SYSTEMD: a container (systemd-nspawn) boots the host's own systemd over
#   the host's /usr (read-only), the installed /etc/promptwall, /var/lib/promptwall and
#   /var/cache/promptwall, sharing the host's network; `systemctl enable --now promptwall` there
#   ─► the running service's user, capabilities, no_new_privs and seccomp, read from /proc
#   ─► a request with a CCCD through the installed gateway to a fake upstream (redacted), the PAC,
#   `systemctl reload` (SIGHUP) ─► `promptwall audit verify` of /var/lib/promptwall/audit
#   ─► dpkg -r (configuration and state stay) ─► dpkg -P (nothing left but the system user).
#
#   tests/package/deb_test.sh BUILD_DIR SOURCE_DIR CONFIG_FILE UNIT_FILE BINARY
#
# Exit 0 passed, 1 failed, 77 skipped (not root, no dpkg, no systemd-nspawn, in a chroot, or the
# promptwall package really installed here, which the test would replace and purge); a skip prints
# "SKIP: why", which ctest shows. Leftovers never decide: what an earlier run of this test left (it
# was killed before its cleanup) is found by its marker and removed first, and directories of
# promptwall's that dpkg does not know of (an old manual install, a removed package's state) are
# moved aside for the run and put back afterwards. One run at a time (a lock); its ports are free
# loopback ports, so other tests may run beside it. PROMPTWALL_E2E_KEEP=1 keeps the work directory
# (logs, the container's journal, the .deb).
set -euo pipefail

build_dir=$1 source_dir=$2 config_file=$3 unit_file=$4 binary=$5
conf_dir=$(dirname "$config_file")
state_dir=/var/lib/promptwall
cache_dir=/var/cache/promptwall
unit_name=$(basename "$unit_file")

skip() { echo "SKIP: $*"; exit 77; }
step() { echo "== $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
# The directories this test removes: promptwall's own, never anything wider.
[[ "$conf_dir" == /*/promptwall ]] || fail "unexpected configuration directory '$conf_dir' (from $config_file)"

[ "$(id -u)" -eq 0 ] || skip "not root: installing a .deb needs root (CI runs as root)"
command -v dpkg >/dev/null && command -v dpkg-deb >/dev/null || skip "no dpkg: not a Debian system"
command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn (Debian package systemd-container; ops/setup.sh --test installs it)"
command -v node >/dev/null || skip "no node for the fake upstream"
# In a chroot systemd-nspawn cannot boot a container (no cgroup tree of its own). A chroot shows
# as / differing from PID 1's root where /proc lets us look; ops/fresh-debian-test.sh also says so.
pid1_root=$(stat -c %d:%i /proc/1/root/. 2>/dev/null || true)
if [ -n "${PROMPTWALL_CHROOT:-}" ] || { [ -n "$pid1_root" ] && [ "$pid1_root" != "$(stat -c %d:%i /)" ]; }; then
  skip "in a chroot: systemd cannot boot in a container here (run on the machine itself)"
fi
exec 9>/run/lock/promptwall-package-test.lock
flock 9

# What this test installs and moves aside, written before it does either, so that a run killed
# before its cleanup is undone by the next run (which holds the lock: no other run is alive).
marker=/var/lib/promptwall-package-test.state
undo_run() {
  # The package this test installed, then promptwall's directories as the purge left them, then
  # whatever was moved aside put back.
  if dpkg-query -W -f='${Status}' promptwall 2>/dev/null | grep -q 'installed\|config-files'; then
    dpkg --purge promptwall >/dev/null 2>&1 || echo "warning: dpkg --purge promptwall failed" >&2
  fi
  rm -rf "$conf_dir" "$state_dir" "$cache_dir"
  local what from to
  while read -r what from to; do
    if [ "$what" = moved ] && [ -e "$to" ]; then mv "$to" "$from"; fi
  done <"$marker"
  rm -f "$marker"
  return 0
}
if [ -e "$marker" ]; then
  echo "== an earlier run of this test was killed before its cleanup: undoing what it left ($marker)"
  undo_run
fi
if dpkg-query -W -f='${Status}' promptwall 2>/dev/null | grep -q 'installed\|config-files'; then
  skip "the promptwall package is installed on this machine (dpkg status: $(dpkg-query -W -f='${Status}' promptwall)); this test would replace and purge it"
fi
echo "run $$" >"$marker"
for path in "$conf_dir" "$state_dir" "$cache_dir"; do
  if [ -e "$path" ]; then
    saved="$path.package-test-saved.$$"
    echo "== $path exists (no promptwall package owns it): moved aside to $saved for this run, put back after"
    mv "$path" "$saved"
    echo "moved $path $saved" >>"$marker"
  fi
done

work=$(mktemp -d /tmp/promptwall-package.XXXXXX)
nspawn_pid=
upstream_pid=
cleanup() {
  local rc=$?
  set +e
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid"  # nspawn shuts the container's systemd down
    for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn_pid" 2>/dev/null
  fi
  [ -n "$upstream_pid" ] && kill "$upstream_pid" 2>/dev/null
  # The package purged, the directories it leaves removed, what was moved aside put back.
  undo_run
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    [ -f "$work/container.log" ] && { echo "--- container console (tail)"; tail -n 40 "$work/container.log"; }
    [ -f "$work/journal.txt" ] && { echo "--- promptwall journal (tail)"; tail -n 60 "$work/journal.txt"; }
  fi
  if [ -n "${PROMPTWALL_E2E_KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# ---------------------------------------------------------------------------------------------
step "building the .deb (cpack -G DEB)"
cmake --build "$build_dir" --target promptwall >"$work/build.log" 2>&1 || fail "building promptwall: $(tail -5 "$work/build.log")"
(cd "$build_dir" && cpack -G DEB -B "$work/deb") >"$work/cpack.log" 2>&1 || fail "cpack: $(tail -20 "$work/cpack.log")"
deb=$(find "$work/deb" -maxdepth 1 -name "promptwall_*.deb" | head -1)
[ -f "$deb" ] || fail "cpack made no promptwall_*.deb: $(tail -5 "$work/cpack.log")"
echo "   $(basename "$deb"), $(du -h "$deb" | cut -f1)"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in 'lib(hyperscan|vectorscan)5' 'libre2-' 'libssl3' 'libicu[0-9]+' 'libyaml-cpp' '^adduser'; do
  [[ "$depends" =~ $lib ]] || fail "Depends lacks $lib (dpkg-shlibdeps?): $depends"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -x -O ./conffiles >"$work/conffiles"
expect_eq "$(cat "$work/conffiles")" "$config_file" "the package's conffiles"

# ---------------------------------------------------------------------------------------------
step "dpkg -i"
dpkg -i "$deb" >"$work/dpkg-install.log" 2>&1 || fail "dpkg -i: $(tail -20 "$work/dpkg-install.log")"
# systemd is not PID 1 here: the postinst must not have started anything.
! pgrep -u promptwall >/dev/null || fail "the postinst started a process without systemd: $(pgrep -a -u promptwall)"

step "layout, user, permissions"
[ -x "$binary" ] || fail "$binary is not installed"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd promptwall) || fail "no user promptwall"
[ "$uid" -lt 1000 ] || fail "promptwall is not a system user (uid $uid)"
expect_eq "$(getent group promptwall | cut -d: -f3)" "$gid" "the primary group of user promptwall"
expect_eq "$home" "$state_dir" "the home of user promptwall"
expect_eq "$shell" /usr/sbin/nologin "the shell of user promptwall"
expect_eq "$(stat -c '%U:%G %a' "$state_dir")" "promptwall:promptwall 750" "$state_dir"
expect_eq "$(stat -c '%U:%G %a' "$cache_dir")" "promptwall:promptwall 750" "$cache_dir"
expect_eq "$(stat -c '%U:%G %a' "$conf_dir")" "root:promptwall 750" "$conf_dir"
expect_eq "$(stat -c '%U:%G %a' "$config_file")" "root:promptwall 640" "$config_file"
expect_eq "$(stat -c '%U:%G %a' "$conf_dir/admin-token")" "root:promptwall 640" "$conf_dir/admin-token"
[ "$(tr -d '\n' <"$conf_dir/admin-token" | wc -c)" -eq 48 ] || fail "the admin token is not 48 hex digits"
[ -f "$unit_file" ] || fail "$unit_file is not installed"
# Transparent mode's pieces: the QUIC-drop set refresher (installed, not enabled) and the rules.
unit_dir=$(dirname "$unit_file")
for f in "$unit_dir/promptwall-nft-set.service" "$unit_dir/promptwall-nft-set.timer" \
         /usr/share/doc/promptwall/nftables/promptwall.nft /usr/share/doc/promptwall/nftables/promptwall-tproxy.nft; do
  [ -f "$f" ] || fail "$f is not installed"
done
dpkg-query -W -f='${Conffiles}' promptwall | grep -q "^ $config_file " || fail "$config_file is not a conffile"
# The shipped configuration is valid as is, for the service's own user.
runuser -u promptwall -- "$binary" serve --check --config "$config_file" >"$work/check.log" 2>&1 ||
  fail "the shipped configuration does not pass serve --check as user promptwall: $(cat "$work/check.log")"

step "systemd-analyze verify and security"
systemd-analyze verify "$unit_file" "$unit_dir/promptwall-nft-set.service" "$unit_dir/promptwall-nft-set.timer" \
  >"$work/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$work/verify.log")"
[ ! -s "$work/verify.log" ] || fail "systemd-analyze verify warns: $(cat "$work/verify.log")"
systemd-analyze security --offline=yes "$unit_file" >"$work/security.log" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' "$work/security.log")
[ -n "$exposure" ] || fail "no exposure level from systemd-analyze security: $(tail -5 "$work/security.log")"
echo "   systemd-analyze security: overall exposure $exposure (0 best, 10 worst)"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || fail "exposure $exposure is above 2.0: $(grep '✗' "$work/security.log")"

# ---------------------------------------------------------------------------------------------
step "a test configuration: free loopback ports, a fake upstream"
upstream_port_file="$work/upstream.out"
node "$source_dir/tests/e2e/fake_upstream.js" --port 0 --record "$work/upstream.jsonl" >"$upstream_port_file" 2>"$work/upstream.err" &
upstream_pid=$!
for _ in $(seq 100); do [ -s "$upstream_port_file" ] && break; sleep 0.1; done
upstream_port=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]).port)' "$upstream_port_file") ||
  fail "the fake upstream did not start: $(cat "$work/upstream.err")"
gateway_port=$(free_port) proxy_port=$(free_port) admin_port=$(free_port)
# An administrator's edit of the conffile: the shipped file with these listeners and services.
cp "$config_file" "$work/shipped.yaml"
node - "$work/shipped.yaml" "$config_file" "$gateway_port" "$proxy_port" "$admin_port" "$upstream_port" <<'EOF'
const fs = require('fs');
const [from, to, gw, proxy, admin, up] = process.argv.slice(2);
let text = fs.readFileSync(from, 'utf8');
const replace = (re, by) => { if (!re.test(text)) throw new Error('not in the shipped config: ' + re); text = text.replace(re, by); };
replace(/^  gateway: .*$/m, `  gateway: 127.0.0.1:${gw}`);
replace(/^  proxy: .*$/m, `  proxy: 127.0.0.1:${proxy}`);
replace(/^  admin: .*$/m, `  admin: 127.0.0.1:${admin}`);
replace(/^services:\n(?:  .*\n|\s*\n)*/m,
  `services:\n  - {name: openai, prefix: /openai, hosts: [api.openai.com], upstream: "http://localhost:${up}", schema: openai}\n` +
  `  - {name: deepseek, hosts: [api.deepseek.com], approved: false}\n\n`);
fs.writeFileSync(to, text);
EOF
runuser -u promptwall -- "$binary" serve --check --config "$config_file" >"$work/check2.log" 2>&1 ||
  fail "the test configuration does not pass serve --check: $(cat "$work/check2.log")"

# ---------------------------------------------------------------------------------------------
step "systemd in a container starts the installed unit"
root="$work/root"
mkdir -p "$root"/{etc,var/lib,var/cache,var/tmp,tmp,root,run,proc,sys,dev,usr}
for link in bin sbin lib lib64; do ln -s "usr/$link" "$root/$link"; done
cp /etc/os-release "$root/etc/os-release" 2>/dev/null || cp /usr/lib/os-release "$root/etc/os-release"
cp /etc/passwd /etc/group /etc/nsswitch.conf /etc/hosts "$root/etc/"
: >"$root/etc/machine-id"
machine="pw-package-$$"
# nspawn withholds CAP_NET_ADMIN from a container on the host's network unless asked: a real host's
# systemd has it, and the unit grants it to the service.
systemd-nspawn --quiet --register=no --keep-unit --console=read-only -M "$machine" -D "$root" --capability=CAP_NET_ADMIN \
  --bind-ro=/usr --bind-ro="$conf_dir" --bind="$state_dir" --bind="$cache_dir" \
  --boot >"$work/container.log" 2>&1 &
nspawn_pid=$!
# The container's init is nspawn's child named systemd: nspawn forks helpers first, and a helper
# taken for the leader (it exits at once) would leave nsenter nowhere to go.
leader=
for _ in $(seq 300); do
  leader=$(pgrep -P "$nspawn_pid" -x systemd | head -1) && [ -n "$leader" ] && break
  kill -0 "$nspawn_pid" 2>/dev/null || fail "systemd-nspawn exited: $(tail -20 "$work/container.log")"
  sleep 0.1
done
[ -n "$leader" ] || fail "no systemd started in the container: $(tail -20 "$work/container.log")"
in_container() { nsenter -t "$leader" -m -u -i -p -- "$@"; }
state=
for _ in $(seq 600); do
  state=$(in_container systemctl is-system-running 2>/dev/null) || true
  case "$state" in running | degraded) break ;; esac
  sleep 0.1
done
case "$state" in running | degraded) ;; *) fail "the container's systemd did not come up (state '$state')" ;; esac

# An empty rule cache: serve --check and serve compile the packs under the unit's sandbox
# (MemoryDenyWriteExecute, the system call filter), not only load them.
find "$cache_dir" -mindepth 1 -delete
in_container systemctl enable --now "$unit_name" >"$work/enable.log" 2>&1 || {
  in_container journalctl -u "$unit_name" --no-pager >"$work/journal.txt" 2>&1
  fail "systemctl enable --now $unit_name: $(cat "$work/enable.log")"
}
ready=0
for _ in $(seq 600); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "http://127.0.0.1:$admin_port/readyz")" = 200 ]; then ready=1; break; fi
  in_container systemctl is-failed --quiet "$unit_name" && break
  sleep 0.1
done
in_container journalctl -u "$unit_name" --no-pager >"$work/journal.txt" 2>&1 || true
[ "$ready" = 1 ] || fail "the service did not become ready: $(in_container systemctl status "$unit_name" --no-pager 2>&1 | head -20)"
expect_eq "$(in_container systemctl is-enabled "$unit_name")" enabled "systemctl is-enabled"
[ -n "$(ls -A "$cache_dir")" ] || fail "the service wrote no compiled rules to $cache_dir"

step "the running service: user, capabilities, no_new_privs, seccomp"
main_pid=$(in_container systemctl show -p MainPID --value "$unit_name")
status=$(in_container cat "/proc/$main_pid/status")
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$status"; }
expect_eq "$(field Uid)" "$uid" "the service's real uid"
expect_eq "$(field CapEff)" 0000000000001400 "effective capabilities (CAP_NET_BIND_SERVICE, CAP_NET_ADMIN)"
expect_eq "$(field CapBnd)" 0000000000001400 "the capability bounding set"
expect_eq "$(field NoNewPrivs)" 1 "no_new_privs"
expect_eq "$(field Seccomp)" 2 "seccomp filter mode"
exposure_running=$(in_container systemd-analyze security "$unit_name" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
echo "   systemd-analyze security (running unit): $exposure_running"

# ---------------------------------------------------------------------------------------------
step "a request with a CCCD through the installed gateway"
cccd=001203004567
body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Số CCCD của anh Nam là '$cccd'"}]}'
headers="$work/headers.txt"
status_code=$(curl -s --noproxy '*' -o "$work/answer.json" -D "$headers" -w '%{http_code}' -H 'Content-Type: application/json' \
  -H 'Authorization: Bearer sk-package-test' --data-binary "$body" "http://127.0.0.1:$gateway_port/openai/v1/chat/completions" || true)
expect_eq "$status_code" 200 "the answer's status"
grep -qi '^x-promptwall-decision: redact' "$headers" || fail "no redact decision: $(cat "$headers")"
forwarded=$(tail -n 1 "$work/upstream.jsonl")
[[ "$forwarded" == *'[CCCD-1]'* ]] || fail "the upstream did not get the redacted text: $forwarded"
[[ "$forwarded" != *"$cccd"* ]] || fail "the CCCD reached the upstream"

step "documents through the installed gateway: read in the sandboxed worker under the unit's hardening"
# The worker confines itself (setrlimit, seccomp) inside the unit's own filter: a stamped docx must be
# read and refused naming its header, a clean one must pass. extractor_failed here means the unit's
# SystemCallFilter stopped the worker.
docs="$source_dir/tests/data/documents/requests"
status_code=$(curl -s --noproxy '*' -o "$work/doc-answer.json" -w '%{http_code}' -H 'Authorization: Bearer sk-package-test' \
  -F purpose=assistants -F "file=@$docs/report-stamped.docx" "http://127.0.0.1:$gateway_port/openai/v1/files" || true)
expect_eq "$status_code" 403 "a stamped docx upload's status"
grep -q 'sensitive_content' "$work/doc-answer.json" || fail "the stamped docx was not refused as sensitive: $(cat "$work/doc-answer.json")"
grep -q 'report-stamped.docx' "$work/doc-answer.json" || fail "the refusal does not name the file: $(cat "$work/doc-answer.json")"
status_code=$(curl -s --noproxy '*' -o "$work/doc-answer.json" -w '%{http_code}' -H 'Authorization: Bearer sk-package-test' \
  -F purpose=assistants -F "file=@$docs/report-clean.docx" "http://127.0.0.1:$gateway_port/openai/v1/files" || true)
expect_eq "$status_code" 200 "a clean docx upload's status ($(cat "$work/doc-answer.json"))"

step "an unapproved service is refused; the PAC is served"
status_code=$(curl -s -o /dev/null -w '%{http_code}' --proxy "http://127.0.0.1:$proxy_port" http://api.deepseek.com/v1/chat || true)
expect_eq "$status_code" 403 "a request to an unapproved service through the proxy"
status_code=$(curl -s --noproxy '*' -o "$work/wpad.dat" -D "$headers" -w '%{http_code}' "http://127.0.0.1:$admin_port/wpad.dat" || true)
expect_eq "$status_code" 200 "GET /wpad.dat"
grep -qi '^content-type: application/x-ns-proxy-autoconfig' "$headers" || fail "the PAC's Content-Type: $(cat "$headers")"
pac=$(node "$source_dir/tests/unit/pac_eval.js" "$work/wpad.dat" https://api.openai.com/ https://www.debian.org/)
[[ "$pac" == *"\"https://api.openai.com/\":\"PROXY 127.0.0.1:$proxy_port\""* ]] || fail "the PAC for api.openai.com: $pac"
[[ "$pac" == *'"https://www.debian.org/":"DIRECT"'* ]] || fail "the PAC for www.debian.org: $pac"

step "systemctl reload (SIGHUP) reloads the rules in the same process"
in_container systemctl reload "$unit_name" || fail "systemctl reload failed"
reloaded=0
for _ in $(seq 300); do
  if in_container journalctl -u "$unit_name" --no-pager 2>/dev/null | grep -q 'rules reloaded'; then reloaded=1; break; fi
  sleep 0.1
done
[ "$reloaded" = 1 ] || fail "no 'rules reloaded' in the journal after systemctl reload"
expect_eq "$(in_container systemctl show -p MainPID --value "$unit_name")" "$main_pid" "MainPID after reload"

step "the audit trail under $state_dir verifies"
in_container systemctl stop "$unit_name"
in_container journalctl -u "$unit_name" --no-pager >"$work/journal.txt" 2>&1 || true
ls "$state_dir"/audit/*.jsonl >/dev/null 2>&1 || fail "no trail files in $state_dir/audit"
expect_eq "$(stat -c '%U %a' "$state_dir/audit")" "promptwall 700" "the trail directory (UMask=0077)"
expect_eq "$(stat -c '%U %a' "$state_dir/audit-signing.pem")" "promptwall 600" "the signing key"
"$binary" audit verify --config "$config_file" >"$work/verify-trail.txt" 2>&1 || fail "promptwall audit verify: $(cat "$work/verify-trail.txt")"
grep -q '"decision":"redact"' "$state_dir"/audit/*.jsonl || fail "no redact decision in the trail"
! grep -rq "$cccd" "$state_dir" || fail "the raw CCCD is in $state_dir"

kill -TERM "$nspawn_pid"
for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
nspawn_pid=

# ---------------------------------------------------------------------------------------------
step "dpkg -r keeps the configuration and the state"
dpkg -r promptwall >"$work/dpkg-remove.log" 2>&1 || fail "dpkg -r: $(tail -20 "$work/dpkg-remove.log")"
[ ! -e "$binary" ] || fail "$binary is still there after dpkg -r"
[ ! -e "$unit_file" ] || fail "$unit_file is still there after dpkg -r"
[ -f "$config_file" ] || fail "dpkg -r removed the configuration"
[ -d "$state_dir/audit" ] || fail "dpkg -r removed the state"

step "dpkg -P leaves nothing but the system user"
dpkg -P promptwall >"$work/dpkg-purge.log" 2>&1 || fail "dpkg -P: $(tail -20 "$work/dpkg-purge.log")"
for path in "$conf_dir" "$state_dir" "$cache_dir" /etc/systemd/system/multi-user.target.wants/"$unit_name" \
  /etc/systemd/system/"$unit_name" /var/lib/systemd/deb-systemd-helper-enabled/"$unit_name".dsh-also \
  /var/lib/systemd/deb-systemd-helper-masked/"$unit_name"; do
  [ ! -e "$path" ] && [ ! -L "$path" ] || fail "$path is left after purge"
done
! dpkg-query -W -f='${Status}' promptwall 2>/dev/null | grep -q 'installed\|config-files' || fail "dpkg still knows promptwall"
getent passwd promptwall >/dev/null || fail "the purge removed the system user (Debian keeps it)"

echo "PASS: the .deb installs, systemd runs it hardened, it redacts and records, and purges cleanly (exposure $exposure)"

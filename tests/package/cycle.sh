#!/bin/sh
# tests/package/cycle.sh — runs INSIDE the Debian 12 chroot that
# tests/package/run builds, in a private mount namespace and a private
# network namespace with only lo. Like piuparts, plus what only tlspin
# needs checking: curl under the system-wide preload.
#
#   cycle.sh main     install, enable, upgrade with an edited conffile, a
#                     reinstall, an upgrade whose postinst fails, one that
#                     ships a changed conffile, remove, purge
#   cycle.sh broken   enable, then break the CLI and the engine, then remove:
#                     the prerm's fallback must still clean /etc/ld.so.preload
#   cycle.sh stale    /etc/ld.so.preload names a shim that is gone: left alone
#                     by a first install, re-pointed by an upgrade
#
# /root/debs/old and /root/debs/new hold tlspin_*.deb and tlspin-dev_*.deb.
# Every check prints "ok - ..." or "FAIL - ..." and a failure ends the run.
set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive
scenario=$1
t=/root/t
mkdir -p "$t"
old_deb=$(ls /root/debs/old/tlspin_*.deb) old_dev=$(ls /root/debs/old/tlspin-dev_*.deb)
new_deb=$(ls /root/debs/new/tlspin_*.deb) new_dev=$(ls /root/debs/new/tlspin-dev_*.deb)
# The shim as the package installs it (what enable-system lists).
shim=$(dpkg-deb --fsys-tarfile "$new_deb" | tar -tf - | sed -n 's#^\.\(/.*/libtlspin\.so\)$#\1#p')
engine=$(dpkg-deb --fsys-tarfile "$new_deb" | tar -tf - | sed -n 's#^\.\(/.*/libtlspin-engine\.so\)$#\1#p')
[ -n "$shim" ] && [ -n "$engine" ] || { echo "FAIL - no shim or engine in $new_deb"; exit 1; }
new_version=$(dpkg-deb -f "$new_deb" Version)

ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; exit 1; }
step() { echo "# $(date +%T) $*"; }

# ---------------------------------------------------------------- fixtures
# One server key and certificate for two names; pinned.test is pinned to
# two other keys (current and backup), free.test is not pinned at all.
mkfixtures() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -keyout "$t/server.key" -out "$t/server.pem" -subj /CN=pinned.test \
        -addext "subjectAltName=DNS:pinned.test,DNS:free.test" 2>/dev/null
    for k in pin1 pin2; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$t/$k.key"
        openssl pkey -in "$t/$k.key" -pubout -outform DER | openssl dgst -sha256 -binary |
            base64 > "$t/$k.pin"
    done
    cat > "$t/pinset.conf" <<PINS
# The package test's pinset: pinned.test must present one of two keys the
# test server does not have.
pinsets = (
  { name = "pkgtest"; hosts = [ "pinned.test" ];
    pins = [ "sha256/$(cat "$t/pin1.pin")", "sha256/$(cat "$t/pin2.pin")" ]; }
);
PINS
    # openssl s_server on 127.0.0.1 (the namespace's only interface),
    # started before anything is enabled: it is the server side, never
    # decided; -www answers a GET with a page.
    : > "$t/s_server.out"
    openssl s_server -accept 127.0.0.1:4433 -cert "$t/server.pem" -key "$t/server.key" \
        -www > "$t/s_server.out" 2>&1 &
    echo $! > "$t/s_server.pid"
    i=0
    until grep -q ACCEPT "$t/s_server.out"; do
        i=$((i + 1)); [ $i -lt 300 ] || fail "s_server did not start"; sleep 0.1
    done
}

# curl NAME [STDERR_FILE]: its exit status (0 allowed; 60 refused in the
# handshake: "SSL certificate problem").
fetch() {
    rc=0
    curl -sS -o /dev/null --max-time 60 --cacert "$t/server.pem" \
        --resolve "$1:4433:127.0.0.1" "https://$1:4433/" 2>"${2:-$t/curl.err}" || rc=$?
    echo $rc
}
expect_blocking() {
    [ "$(fetch pinned.test)" = 60 ] && ok "pinned.test blocked (curl 60) $1" ||
        fail "pinned.test not blocked $1 (curl $(fetch pinned.test): $(cat "$t/curl.err"))"
    [ "$(fetch free.test)" = 0 ] && ok "free.test allowed $1" ||
        fail "free.test refused $1 (curl: $(cat "$t/curl.err"))"
    ! grep -q 'ld\.so' "$t/curl.err" || fail "ld.so complains $1: $(cat "$t/curl.err")"
}
enabled() { [ -r /etc/ld.so.preload ] && tr ' \t:' '\n\n\n' < /etc/ld.so.preload | grep -Fqx "$shim"; }
expect_enabled() { enabled && ok "/etc/ld.so.preload lists $shim $1" || fail "not enabled $1"; }
expect_disabled() {
    if [ -e /etc/ld.so.preload ] && grep -q tlspin /etc/ld.so.preload; then
        fail "/etc/ld.so.preload names tlspin $1: $(cat /etc/ld.so.preload)"
    fi
    ok "/etc/ld.so.preload names no tlspin shim $1"
}
conf_sum() { sha256sum /etc/tlspin/tlspin.conf | cut -d' ' -f1; }
expect_conf_kept() {
    [ "$(conf_sum)" = "$edited_sum" ] && ok "edited tlspin.conf kept byte-for-byte $1" ||
        fail "tlspin.conf changed $1: $(diff "$t/tlspin.conf.edited" /etc/tlspin/tlspin.conf)"
}

# piuparts-like: every path of the system, but the test's own files and the
# package manager's databases, logs and caches.
snapshot() {
    find / -xdev \( -path /root -o -path /tmp -o -path /run -o -path /var/log -o \
        -path /var/cache/apt -o -path /var/lib/apt -o -path /var/lib/dpkg -o \
        -path /var/cache/debconf -o -path /var/cache/ldconfig \) -prune -o -print |
        LC_ALL=C sort > "$1"
}

# A loop of both curls while dpkg works, to catch a process started in the
# middle of an upgrade or removal (new shim with the old engine, a preload
# entry naming a file already gone). $1 and $2: the exit codes free.test
# and pinned.test may give (regexes); ld.so's complaint about a missing
# preloaded library is never allowed. Refusals of free.test are counted.
loop_start() {
    rm -f "$t/loop.stop" "$t/loop.bad"
    : > "$t/loop.count"; : > "$t/loop.refused"
    (
        while [ ! -e "$t/loop.stop" ]; do
            r=$(fetch free.test "$t/loop.err")
            echo "$r" | grep -Eqx "$1" || echo "free.test: curl $r: $(head -n1 "$t/loop.err")" >> "$t/loop.bad"
            [ "$r" = 0 ] || echo x >> "$t/loop.refused"
            ! grep -q 'ld\.so' "$t/loop.err" || cat "$t/loop.err" >> "$t/loop.bad"
            r=$(fetch pinned.test "$t/loop.err")
            echo "$r" | grep -Eqx "$2" || echo "pinned.test: curl $r: $(head -n1 "$t/loop.err")" >> "$t/loop.bad"
            ! grep -q 'ld\.so' "$t/loop.err" || cat "$t/loop.err" >> "$t/loop.bad"
            echo x >> "$t/loop.count"
        done
    ) &
    loop_pid=$!
}
loop_stop() {
    touch "$t/loop.stop"
    wait "$loop_pid" || true
    n=$(wc -l < "$t/loop.count")
    if [ -s "$t/loop.bad" ]; then
        fail "$1: curl runs during it went wrong: $(sort "$t/loop.bad" | uniq -c)"
    fi
    ok "$1: $n pairs of curl runs during it, $(wc -l < "$t/loop.refused") refusals of free.test"
}

# A curl that starts now (the preload as it is now: shim mapped) and makes
# its handshake only when handshake_now is called: it blocks opening its
# config (-K), a FIFO, until then. Deterministic: no timing involved.
held_start() {
    rm -f "$t/held.fifo"; mkfifo "$t/held.fifo"
    curl -sS -o /dev/null --max-time 60 --cacert "$t/server.pem" \
        --resolve "$1:4433:127.0.0.1" -K "$t/held.fifo" 2> "$t/held.err" &
    held_pid=$!
    # Started: its /proc/PID/maps lists the shim once ld.so mapped it.
    i=0
    until grep -Fq "$shim" "/proc/$held_pid/maps" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 600 ] || fail "held curl did not start"; sleep 0.1
    done
    held_url="https://$1:4433/"
}
handshake_now() {   # sets held_rc (not in $(...): wait needs this shell)
    echo "url = \"$held_url\"" > "$t/held.fifo"
    held_rc=0; wait "$held_pid" || held_rc=$?
}

# --------------------------------------------------------------- scenarios
install_and_enable() {
    step "install $1"
    apt-get install -y -q --no-install-recommends "$@" > "$t/apt.log" 2>&1 ||
        { cat "$t/apt.log"; fail "apt-get install $*"; }
    ok "apt-get install $(basename "$1")"
    expect_disabled "after installing"
    rc=0; tlspin status > "$t/status.out" 2>&1 || rc=$?
    [ "$rc" = 1 ] && ok "tlspin status says not enabled (1)" ||
        fail "tlspin status $rc after installing: $(cat "$t/status.out")"
    [ "$(fetch pinned.test)" = 0 ] && ok "pinned.test not decided before enable-system" ||
        fail "curl refused before anything was enabled"

    step "pin pinned.test, enable-system"
    install -m 0644 "$t/pinset.conf" /etc/tlspin/pins.d/pkgtest.conf
    tlspin enable-system > "$t/enable.out" 2>&1 || { cat "$t/enable.out"; fail "tlspin enable-system"; }
    ok "tlspin enable-system"
    expect_enabled "after enable-system"
    expect_blocking "under the system-wide preload"
}

main() {
    snapshot "$t/files.before"
    install_and_enable "$old_deb" "$old_dev"

    step "administrator's edits and state"
    # An edit that keeps enforcing (mode = "report" would stop blocking):
    # the log level and a comment.
    sed -i 's/level = "warning"/level = "info"/' /etc/tlspin/tlspin.conf
    echo '# edited by the package test' >> /etc/tlspin/tlspin.conf
    cp /etc/tlspin/tlspin.conf "$t/tlspin.conf.edited"
    edited_sum=$(conf_sum)
    printf 'mirror https://mirror.invalid/pinset.signed\n' > /etc/tlspin/update.conf
    tlspin check --commit > "$t/commit.out" 2>&1 || { cat "$t/commit.out"; fail "tlspin check --commit"; }
    touch /var/lib/tlspin/pinset.signed   # where tlspin update keeps its cache
    [ -n "$(ls -A /var/lib/tlspin)" ] && ok "state in /var/lib/tlspin: $(ls /var/lib/tlspin | tr '\n' ' ')" ||
        fail "tlspin check --commit wrote no state"
    expect_blocking "with the edited policy"
    cp /etc/ld.so.preload "$t/preload.enabled"

    step "upgrade to $new_version"
    # Old shim with the new engine, or the reverse: every run decides.
    loop_start 0 60
    held_start pinned.test   # the old shim, mapped before the upgrade
    apt-get install -y -q "$new_deb" "$new_dev" > "$t/apt.log" 2>&1 ||
        { cat "$t/apt.log"; fail "upgrade"; }
    loop_stop "upgrade"
    # Its first handshake loads the engine now on disk: the new one.
    handshake_now
    [ "$held_rc" = 60 ] && ok "a curl started before the upgrade (old shim, new engine) blocks pinned.test" ||
        fail "old shim with the new engine: curl $held_rc ($(cat "$t/held.err"))"
    [ "$(dpkg-query -W -f='${Version}' tlspin)" = "$new_version" ] &&
        ok "tlspin $new_version installed" || fail "version after upgrade"
    expect_conf_kept "by the upgrade"
    expect_enabled "after the upgrade"
    cmp -s /etc/ld.so.preload "$t/preload.enabled" && ok "/etc/ld.so.preload untouched" ||
        fail "/etc/ld.so.preload changed by the upgrade"
    expect_blocking "after the upgrade"
    tlspin status > "$t/status.out" 2>&1 && ok "tlspin status healthy (0)" ||
        fail "tlspin status: $(cat "$t/status.out")"

    step "reinstall"
    dpkg -i "$new_deb" > "$t/dpkg.log" 2>&1 || { cat "$t/dpkg.log"; fail "reinstall"; }
    expect_conf_kept "by a reinstall"
    expect_enabled "after a reinstall"
    expect_blocking "after a reinstall"

    step "an upgrade whose postinst fails"
    # The new package with one change: its postinst fails first thing. dpkg
    # has unpacked the new files when it runs; the machine must be as it
    # was: still enabled, still blocking, the conffile untouched.
    rm -rf "$t/failing"
    dpkg-deb -R "$new_deb" "$t/failing"
    sed -i "s/^Version: .*/Version: $new_version+failingpostinst/" "$t/failing/DEBIAN/control"
    sed -i '0,/^set -e$/s//set -e\necho "tlspin postinst: injected failure (package test)" >\&2; exit 1/' \
        "$t/failing/DEBIAN/postinst"
    grep -q 'injected failure' "$t/failing/DEBIAN/postinst" || fail "could not inject the failure"
    dpkg-deb -b "$t/failing" "$t/failing.deb" > /dev/null
    if dpkg -i "$t/failing.deb" > "$t/dpkg.log" 2>&1; then fail "the failing postinst did not fail"; fi
    grep -q 'injected failure' "$t/dpkg.log" && ok "postinst failed as injected" || fail "$(cat "$t/dpkg.log")"
    [ "$(dpkg-query -W -f='${Status}' tlspin)" = "install ok half-configured" ] &&
        ok "dpkg: half-configured" || fail "status $(dpkg-query -W -f='${Status}' tlspin)"
    cmp -s /etc/ld.so.preload "$t/preload.enabled" && ok "/etc/ld.so.preload as it was" ||
        fail "/etc/ld.so.preload changed"
    expect_conf_kept "by the failed upgrade"
    expect_blocking "after the failed postinst"
    dpkg -i "$new_deb" > "$t/dpkg.log" 2>&1 || { cat "$t/dpkg.log"; fail "reinstalling $new_version"; }
    ok "back to $new_version"
    expect_conf_kept "after going back"
    expect_blocking "after going back"

    step "an upgrade that ships a changed tlspin.conf"
    # The administrator's edit and the package's change conflict: dpkg
    # keeps the edited file. Without an answer (no terminal, stdin empty)
    # dpkg stops before touching it; with --force-confold (what a fleet's
    # apt passes: -o Dpkg::Options::=--force-confold) it keeps it and puts
    # the package's version next to it as tlspin.conf.dpkg-dist.
    rm -rf "$t/changed"
    dpkg-deb -R "$new_deb" "$t/changed"
    sed -i "s/^Version: .*/Version: $new_version+changedconf/" "$t/changed/DEBIAN/control"
    echo '# a change in the shipped policy' >> "$t/changed/etc/tlspin/tlspin.conf"
    dpkg-deb -b "$t/changed" "$t/changed.deb" > /dev/null
    rc=0; dpkg -i "$t/changed.deb" > "$t/dpkg.log" 2>&1 < /dev/null || rc=$?
    expect_conf_kept "by an unanswered conffile question (dpkg exit $rc)"
    expect_blocking "after it"
    dpkg -i --force-confold "$t/changed.deb" > "$t/dpkg.log" 2>&1 < /dev/null ||
        { cat "$t/dpkg.log"; fail "dpkg -i --force-confold"; }
    expect_conf_kept "by --force-confold"
    [ -e /etc/tlspin/tlspin.conf.dpkg-dist ] && ok "the package's version is tlspin.conf.dpkg-dist" ||
        fail "no tlspin.conf.dpkg-dist: $(ls /etc/tlspin)"
    expect_enabled "after it"
    expect_blocking "after it"
    dpkg -i --force-confold "$new_deb" > "$t/dpkg.log" 2>&1 < /dev/null ||
        { cat "$t/dpkg.log"; fail "back to $new_version"; }
    expect_conf_kept "going back"

    step "remove"
    # No run may find the entry naming a library already gone (ld.so's
    # error). free.test may be refused: a curl that loaded the shim before
    # the prerm and reaches its handshake after dpkg deleted the engine
    # (the shim loads it lazily, at the first handshake) finds no engine
    # and fails closed; a long-running program in that state refuses TLS
    # until restarted (docs: "Installing on a fleet").
    loop_start '0|60' '0|60'
    held_start free.test     # the shim mapped before removal, no engine yet
    apt-get remove -y -q tlspin tlspin-dev > "$t/apt.log" 2>&1 || { cat "$t/apt.log"; fail "remove"; }
    loop_stop "removal"
    # Shown, not judged: what a program that loaded the shim before the
    # removal does at its first handshake after it (the engine is gone).
    handshake_now
    echo "note - a curl started before removal, first handshake after it: curl $held_rc" \
         "$([ "$held_rc" = 60 ] && echo '(refused: no engine, fail closed)')"
    # The prerm, not the postrm's safety net, took the entry out: before
    # dpkg deleted the files.
    ! grep -q 'still listed' "$t/apt.log" && ok "the entry was gone before the files (prerm)" ||
        fail "prerm left the entry to postrm: $(grep 'still listed' "$t/apt.log")"
    expect_disabled "after removal"
    [ "$(fetch pinned.test)" = 0 ] && ok "curl runs, undecided, after removal" ||
        fail "curl after removal: $(cat "$t/curl.err")"
    ! grep -q . "$t/curl.err" && ok "curl says nothing on stderr (no ld.so error)" ||
        fail "curl's stderr after removal: $(cat "$t/curl.err")"
    left_only_conffiles "$new_deb"
    expect_conf_kept "by removal"

    step "purge"
    # dpkg, not apt: tlspin-dev has no conffiles, so removal left nothing
    # of it to purge, and apt (no package lists here) no longer knows it.
    dpkg --purge tlspin tlspin-dev > "$t/dpkg.log" 2>&1 || { cat "$t/dpkg.log"; fail "purge"; }
    for d in /etc/tlspin /var/lib/tlspin; do
        [ ! -e "$d" ] && ok "$d gone" || fail "$d left after purge: $(find "$d")"
    done
    nothing_left
}

# After removal: no file of the package but its conffiles.
left_only_conffiles() {
    dpkg-deb -I "$1" conffiles > "$t/conffiles" 2>/dev/null || : > "$t/conffiles"
    dpkg-deb --fsys-tarfile "$1" | tar -tf - | sed 's#^\./#/#; s#/$##' > "$t/pkgfiles"
    left=""
    while read -r f; do
        [ -n "$f" ] && [ "$f" != / ] || continue
        [ -e "$f" ] && [ ! -d "$f" ] || continue
        grep -Fqx "$f" "$t/conffiles" || left="$left $f"
    done < "$t/pkgfiles"
    [ -z "$left" ] && ok "after removal, only conffiles of the package are left ($(wc -l < "$t/conffiles"))" ||
        fail "files of the package left after removal:$left"
}

# After purge: the system as it was before the first install.
nothing_left() {
    snapshot "$t/files.after"
    if cmp -s "$t/files.before" "$t/files.after"; then
        ok "after purge, the file list equals the one before installing ($(wc -l < "$t/files.before") paths)"
    else
        diff "$t/files.before" "$t/files.after" | sed 's/^/    /'
        fail "the system differs after purge (above: < gone, > new)"
    fi
}

broken() {
    snapshot "$t/files.before"
    install_and_enable "$new_deb"
    if [ -L /lib ]; then
        # Another path to the same shim (merged /usr: /lib -> usr/lib), as
        # an administrator may have written it by hand: removal must find it.
        sed -i 's#^/usr/lib/#/lib/#' /etc/ld.so.preload
        ok "the entry now reads $(cat /etc/ld.so.preload)"
        expect_blocking "through that path"
    fi
    step "break the CLI and the engine, then remove"
    printf '#!/bin/sh\necho "tlspin: broken on purpose" >&2\nexit 1\n' > /usr/bin/tlspin
    : > "$engine"
    [ "$(fetch free.test)" != 0 ] && ok "with its engine truncated, the shim fails closed" ||
        fail "a truncated engine let a handshake through"
    dpkg -r tlspin > "$t/dpkg.log" 2>&1 || { cat "$t/dpkg.log"; fail "dpkg -r with a broken CLI"; }
    grep -q 'editing /etc/ld.so.preload directly' "$t/dpkg.log" && ok "prerm fell back to editing the file" ||
        fail "prerm did not say it fell back: $(cat "$t/dpkg.log")"
    ! grep -q 'still listed' "$t/dpkg.log" && ok "the entry was gone before the files (prerm)" ||
        fail "prerm left the entry to postrm: $(grep 'still listed' "$t/dpkg.log")"
    expect_disabled "after removal with a broken CLI"
    [ "$(fetch free.test)" = 0 ] && ! grep -q . "$t/curl.err" && ok "curl runs cleanly after removal" ||
        fail "curl after removal: $(cat "$t/curl.err")"
    dpkg --purge tlspin > "$t/dpkg.log" 2>&1 || { cat "$t/dpkg.log"; fail "purge"; }
    nothing_left
}

# /etc/ld.so.preload naming a tlspin shim that is gone: a first install
# leaves it alone (not this package's to enable); an upgrade from a layout
# that put the shim elsewhere points it at this package's shim.
stale() {
    snapshot "$t/files.before"
    step "install with a stale entry from a removed source install"
    gone=/usr/local/lib/tlspin/libtlspin.so
    echo "# ld.so's errors about $gone below are expected: every program now says so"
    echo "$gone" > /etc/ld.so.preload
    apt-get install -y -q "$old_deb" > "$t/apt.log" 2>&1 || { cat "$t/apt.log"; fail "install"; }
    [ "$(cat /etc/ld.so.preload)" = "$gone" ] && ok "first install left the stale entry as it was" ||
        fail "first install changed /etc/ld.so.preload: $(cat /etc/ld.so.preload)"
    grep -q 'left as it is' "$t/apt.log" && ok "and said so" || fail "no word of the stale entry"
    step "upgrade from a layout whose shim was elsewhere"
    install -m 0644 "$t/pinset.conf" /etc/tlspin/pins.d/pkgtest.conf
    echo "${shim%/tlspin/libtlspin.so}/libtlspin.so" > /etc/ld.so.preload
    apt-get install -y -q "$new_deb" > "$t/apt.log" 2>&1 || { cat "$t/apt.log"; fail "upgrade"; }
    [ "$(tr ' \t:' '\n\n\n' < /etc/ld.so.preload | grep -c .)" = 1 ] && expect_enabled "instead of the old path" ||
        fail "after the upgrade: $(cat /etc/ld.so.preload)"
    expect_blocking "after the upgrade re-pointed the entry"
    dpkg --purge tlspin > "$t/dpkg.log" 2>&1 || { cat "$t/dpkg.log"; fail "purge"; }
    expect_disabled "after purge"
    nothing_left
}

mkfixtures
case "$scenario" in
    main) main ;;
    broken) broken ;;
    stale) stale ;;
    *) fail "unknown scenario $scenario" ;;
esac
kill "$(cat "$t/s_server.pid")" 2>/dev/null || true
echo "# scenario $scenario: all checks passed"

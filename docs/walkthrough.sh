#!/bin/bash
# docs/walkthrough.sh — the README's "Living with pins" session, for real.
#
# Makes an example PKI (an api.example.com server and a "Corp Proxy" that
# intercepts it), starts both on 127.0.0.1, and runs the tlspin command from
# "I want to pin my API" to an enforced pinset with a backup pin. Runs in a
# private mount namespace with an overlay over /etc, so /etc/tlspin exists
# only for the session. Needs root and a build (script/build). The README
# block is this script's output, copied.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
if [[ ${1:-} != --inside ]]; then
    exec unshare --mount --propagation private "$0" --inside
fi
T=$(mktemp -d /tmp/tlspin-walk.XXXXXX)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; umount /etc 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT

mkdir -p "$T/up" "$T/work" "$T/pki" "$T/home"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/up,workdir=$T/work" /etc
mkdir -p /etc/tlspin/pins.d
cp "$top/build/etc/tlspin.conf" /etc/tlspin/tlspin.conf
chmod 755 /etc/tlspin /etc/tlspin/pins.d; chmod 644 /etc/tlspin/tlspin.conf

cd "$T/pki"
cat > x.cnf <<'CNF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ int ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:api.example.com
CNF
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
q() { "$@" >/dev/null 2>&1; }
q openssl req -config x.cnf -x509 -noenc -days 3650 "${ec[@]}" -keyout ca.key -out ca.pem -subj "/O=Example/CN=Example Root CA" -extensions ca
q openssl req -config x.cnf -x509 -noenc -days 1825 "${ec[@]}" -keyout int.key -out int.pem -subj "/O=Example/CN=Example Issuing CA" -extensions int -CA ca.pem -CAkey ca.key
q openssl req -config x.cnf -x509 -noenc -days 90 "${ec[@]}" -keyout api.key -out api.pem -subj "/O=Example/CN=api.example.com" -extensions leaf -CA int.pem -CAkey int.key
q openssl req -config x.cnf -x509 -noenc -days 3650 "${ec[@]}" -keyout proxy-ca.key -out proxy-ca.pem -subj "/O=Corp/CN=Corp Proxy CA" -extensions ca
q openssl req -config x.cnf -x509 -noenc -days 30 "${ec[@]}" -keyout proxy.key -out proxy.pem -subj "/O=Corp/CN=api.example.com" -extensions leaf -CA proxy-ca.pem -CAkey proxy-ca.key
cat ca.pem proxy-ca.pem > trust.pem
openssl s_server -accept 127.0.0.1:8443 -cert api.pem -key api.key -cert_chain int.pem -www -quiet >/dev/null 2>&1 &
pids+=($!)
openssl s_server -accept 127.0.0.1:8444 -cert proxy.pem -key proxy.key -cert_chain proxy-ca.pem -www -quiet >/dev/null 2>&1 &
pids+=($!)
sleep 0.5

export PATH=$top/build/bin:$PATH
cd "$T/home"
cp "$T/pki/ca.pem" "$T/pki/trust.pem" .
run() { echo "\$ $*"; set +e; eval "$@"; local rc=$?; set -e; echo "[exit $rc]"; echo; }
run 'tlspin pin api.example.com:8443 --connect 127.0.0.1 --cafile ca.pem'
run 'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out api-backup.key'
run 'tlspin pin --stanza api --backup api-backup.key api.example.com:8443 --connect 127.0.0.1 --cafile ca.pem > /etc/tlspin/pins.d/.api.conf.tmp'
run 'mv /etc/tlspin/pins.d/.api.conf.tmp /etc/tlspin/pins.d/api.conf && cat /etc/tlspin/pins.d/api.conf'
run 'tlspin check'
run 'tlspin probe api.example.com:8443 --connect 127.0.0.1 --cafile ca.pem'
run 'tlspin probe api.example.com:8444 --connect 127.0.0.1 --cafile trust.pem   # through the interception proxy'
run 'tlspin run -- curl -sS --cacert trust.pem --resolve api.example.com:8444:127.0.0.1 https://api.example.com:8444/ -o /dev/null'
run 'tlspin doctor /usr/bin/curl /usr/bin/wget'

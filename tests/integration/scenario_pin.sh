#!/usr/bin/env bash
# scenario_pin.sh — SPKI pins for the scenario suite (test_scenario.c),
# computed with the openssl CLI alone, independently of tlspin: the suite
# compares them with what tlspin's records say.
#
#   scenario_pin.sh cert FILE            pin of the (first) certificate in FILE
#   scenario_pin.sh presented PORT SNI [PROXYPORT]
#                                        pin of the leaf that 127.0.0.1:PORT
#                                        presents for SNI (nothing verified);
#                                        with PROXYPORT, of the leaf seen for
#                                        SNI:PORT through the HTTP proxy on
#                                        127.0.0.1:PROXYPORT (CONNECT)
#
# Prints sha256/<base64 of SHA-256 of the DER SubjectPublicKeyInfo>.
set -euo pipefail

spki_pin() {
    printf 'sha256/%s\n' "$(openssl x509 -pubkey -noout |
        openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64 -w0)"
}

case ${1:-} in
cert)
    [[ $# -eq 2 ]] || exit 2
    spki_pin <"$2"
    ;;
presented)
    [[ $# -eq 3 || $# -eq 4 ]] || exit 2
    if [[ $# -eq 4 ]]; then
        to=(-proxy "127.0.0.1:$4" -connect "$3:$2")
    else
        to=(-connect "127.0.0.1:$2")
    fi
    # s_client prints the leaf between BEGIN/END lines ("Server certificate").
    pem=$(openssl s_client "${to[@]}" -servername "$3" </dev/null 2>/dev/null |
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p')
    if [[ -z $pem ]]; then
        echo "scenario_pin.sh: 127.0.0.1:$2 presented no certificate" >&2
        exit 1
    fi
    spki_pin <<<"$pem"
    ;;
*)
    echo "usage: $0 cert FILE | presented PORT SNI" >&2
    exit 2
    ;;
esac

#!/usr/bin/python3 -I
"""compat_python.py MODE HOST PORT CAFILE — one HTTPS GET through one of
python3's own client APIs, as an unmodified program would make it.

MODE: urllib | http.client | requests | asyncio. The host name is resolved
by the system (the test maps it to 127.0.0.1 in a private /etc/hosts), so
each API sets SNI and the name it verifies itself. Prints "OK <status>
<bytes>" and exits 0, or "FAILED <exception type>: <its text>" and exits 1.
"""
import ssl
import sys

MARKER = "tlspin-compat-probe"


def via_urllib(host, port, ca):
    import urllib.request
    ctx = ssl.create_default_context(cafile=ca)
    req = urllib.request.Request("https://%s:%d/" % (host, port), headers={"X-Probe": MARKER})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return r.status, len(r.read())


def via_http_client(host, port, ca):
    import http.client
    ctx = ssl.create_default_context(cafile=ca)
    c = http.client.HTTPSConnection(host, port, context=ctx, timeout=10)
    try:
        c.request("GET", "/", headers={"X-Probe": MARKER})
        r = c.getresponse()
        return r.status, len(r.read())
    finally:
        c.close()


def via_requests(host, port, ca):
    import requests
    r = requests.get("https://%s:%d/" % (host, port), verify=ca, timeout=10,
                     headers={"X-Probe": MARKER})
    return r.status_code, len(r.content)


def via_asyncio(host, port, ca):
    # asyncio streams: a non-blocking socket, the TLS in an SSLObject over
    # memory BIOs (SSL_do_handshake until it stops asking for more bytes).
    import asyncio

    async def main():
        ctx = ssl.create_default_context(cafile=ca)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ctx), 10)
        writer.write(b"GET / HTTP/1.0\r\nHost: " + host.encode() +
                     b"\r\nX-Probe: " + MARKER.encode() + b"\r\n\r\n")
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "?"
        return status, len(data)

    return asyncio.run(main())


MODES = {"urllib": via_urllib, "http.client": via_http_client,
         "requests": via_requests, "asyncio": via_asyncio}

if __name__ == "__main__":
    mode, host, port, ca = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    try:
        status, n = MODES[mode](host, port, ca)
    except Exception as e:  # the program's own report, whatever it is
        print("FAILED %s: %s" % (type(e).__name__, e), flush=True)
        sys.exit(1)
    print("OK %s %d" % (status, n))

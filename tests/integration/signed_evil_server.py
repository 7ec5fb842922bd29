#!/usr/bin/python3
"""signed_evil_server.py MODE CERT KEY PORTFILE [FILE]

A hostile HTTPS update server on 127.0.0.1 (kernel-chosen port, written to
PORTFILE) for the signed-pinset suite. One behaviour per MODE, for every
connection:

  endless   200 without Content-Length, then bytes forever
  drip      200 with the Content-Length of FILE, then FILE one byte per 0.3 s
  reset     200 with the Content-Length of FILE, half of FILE, then a TCP RST
  biglen    200 with Content-Length: 10000000 and a little body
  chunked   200 with Transfer-Encoding: chunked
  escape-redirect  302 whose Location and reason phrase carry terminal
            escapes (set the window title, clear the screen, a C1 CSI, a
            fake "installed" line after CR LF)
  escape-body      200 with a body that is no signed file, full of escapes
"""
import os
import socket
import ssl
import struct
import sys
import threading
import time

mode, certfile, keyfile, portfile = sys.argv[1:5]
payload = open(sys.argv[5], "rb").read() if len(sys.argv) > 5 else b""

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(certfile, keyfile)
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)


def serve(raw):
    try:
        s = ctx.wrap_socket(raw, server_side=True)
        req = b""
        while b"\r\n\r\n" not in req:
            d = s.recv(4096)
            if not d:
                return
            req += d
        if mode == "endless":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                      b"Connection: close\r\n\r\n")
            chunk = b"x" * 16384
            while True:
                s.sendall(chunk)
        elif mode == "drip":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload))
            for i in range(len(payload)):
                s.sendall(payload[i:i + 1])
                time.sleep(0.3)
        elif mode == "reset":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload))
            s.sendall(payload[: len(payload) // 2])
            time.sleep(0.2)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()
            return
        elif mode == "biglen":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n" + b"y" * 1000)
            time.sleep(5)
        elif mode == "escape-redirect":
            s.sendall(b"HTTP/1.1 302 \x1b[2JFound\r\n"
                      b"Location: \x1b]2;owned\x07\x1b[2J\x9b31m\xc2\x9b1m"
                      b"https://evil.test/\rtlspin update: installed serial 99\r\n"
                      b"Content-Length: 0\r\n\r\n")
        elif mode == "escape-body":
            body = (b"\x1b]2;owned\x07\x1b[2J\x9b31m\r\ntlspin update: installed serial 99\n"
                    b"\x1b[1A\x1b[K" * 4)
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        elif mode == "chunked":
            s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % len(payload)
                      + payload + b"\r\n0\r\n\r\n")
        s.close()
    except (OSError, ssl.SSLError):
        pass


while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()

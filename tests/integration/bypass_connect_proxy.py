#!/usr/bin/python3
"""bypass_connect_proxy.py — a plain HTTP CONNECT relay for test_bypasses.c.

    bypass_connect_proxy.py

Listens on 127.0.0.1 (kernel-chosen port), prints "listening <port>", then
for each client reads one "CONNECT host:port HTTP/1.x" request, prints
"connect host:port", connects to 127.0.0.1:port (whatever the host: the
tests never leave the loopback), answers "200 Connection established" and
relays bytes both ways until each side has closed. A client of the proxy
(curl --proxy) sees only the proxy's address and port on its socket.
"""
import socket
import sys
import threading


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def handle(client):
    with client:
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = client.recv(4096)
            if not data or len(buf) > 65536:
                return
            buf += data
        head, _, rest = buf.partition(b"\r\n\r\n")
        words = head.split(b"\r\n")[0].decode("latin-1").split()
        if len(words) != 3 or words[0] != "CONNECT" or ":" not in words[1]:
            client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        target = words[1]
        port = int(target.rsplit(":", 1)[1])
        out("connect " + target)
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
            upstream.settimeout(None)
        except OSError as e:
            out("upstream failed " + str(e))
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            t = threading.Thread(target=pipe, args=(client, upstream), daemon=True)
            t.start()
            pipe(upstream, client)
            t.join(timeout=10)


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    out("listening %d" % listener.getsockname()[1])
    while True:
        client, _ = listener.accept()
        threading.Thread(target=handle, args=(client,), daemon=True).start()


if __name__ == "__main__":
    main()

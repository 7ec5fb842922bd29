#!/usr/bin/python3
"""devlog.py SOCKET OUTFILE — a minimal syslog receiver for script/demo.

Binds a unix datagram socket at SOCKET (script/demo does this at /dev/log
inside its own mount namespace, so the host's logging is untouched) and
appends every datagram it receives, one per line, to OUTFILE. These are the
exact bytes glibc's syslog(3) sent: "<PRI>Mmm dd hh:mm:ss TAG: MESSAGE".
Stops on SIGTERM.
"""
import os
import signal
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: devlog.py SOCKET OUTFILE\n")
        return 2
    path, out = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    with open(out, "a", buffering=1, encoding="utf-8", errors="backslashreplace") as f:
        while True:
            data = sock.recv(65536)
            f.write(data.rstrip(b"\0\n").decode("utf-8", "backslashreplace") + "\n")


if __name__ == "__main__":
    sys.exit(main())

"""A listening socket on 127.0.0.1 for the tests' small servers, its port published in a file."""
import os
import signal
import socket
import sys


def listen(port_file, backlog=64):
    """Listens on a free port of 127.0.0.1, writes the port to `port_file` (atomically), and arranges to stop
    on SIGTERM or after 10 minutes. Returns the listening socket."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(backlog)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.alarm(600)
    with open(port_file + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    return listener

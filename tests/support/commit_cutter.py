#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 in front of a PostgreSQL server that loses a COMMIT, for tests.

Every connection is relayed byte for byte. On a connection whose client has sent
a simple query containing ALTER EXTENSION, the next COMMIT is lost:

  after  -- the server's answer to COMMIT (CommandComplete "COMMIT") is dropped and both
            sides are closed: the change committed, and the client cannot know it;
  before -- the client's COMMIT is dropped and both sides are closed: the server rolls back.

What it did is appended to the log file. Clients must not ask for SSL or GSS encryption
(sslmode=disable gssencmode=disable): the relay reads the protocol's messages.

usage: commit_cutter.py after|before SERVER_PORT PORT_FILE LOG_FILE   (stops after 10 minutes)
"""
import os
import signal
import socket
import struct
import sys
import threading

mode, server_port, port_file, log_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()


def log(line):
    with lock, open(log_file, "a", encoding="utf-8") as f:
        f.write(line + "\n")


class Link:
    def __init__(self, client, server):
        self.client, self.server = client, server
        self.armed = False
        self.closed = False

    def close(self):
        self.closed = True
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def messages(sock, typed_from_start):
    """Yields (raw bytes of one protocol message, type, payload) as they arrive on sock."""
    buffer = b""
    typed = typed_from_start
    while True:
        need = 5 if typed else 4
        while len(buffer) < need:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buffer += chunk
        length = struct.unpack("!I", buffer[1:5] if typed else buffer[0:4])[0]
        total = length + (1 if typed else 0)
        while len(buffer) < total:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buffer += chunk
        raw, buffer = buffer[:total], buffer[total:]
        kind = raw[0:1] if typed else b""
        yield raw, kind, raw[5:] if typed else raw[4:]
        typed = True


def client_to_server(link):
    try:
        for raw, kind, payload in messages(link.client, False):
            if kind == b"Q" and b"ALTER EXTENSION" in payload:
                link.armed = True
            if kind == b"Q" and link.armed and payload.strip(b"\0 ;").upper() == b"COMMIT" and mode == "before":
                log("dropped the client's COMMIT")
                link.close()
                return
            link.server.sendall(raw)
    except OSError:
        pass
    finally:
        if not link.closed:
            link.close()


def server_to_client(link):
    try:
        for raw, kind, payload in messages(link.server, True):
            if kind == b"C" and link.armed and payload.startswith(b"COMMIT") and mode == "after":
                log("dropped the server's answer to COMMIT")
                link.close()
                return
            link.client.sendall(raw)
    except OSError:
        pass
    finally:
        if not link.closed:
            link.close()


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.alarm(600)
    open(log_file, "a", encoding="utf-8").close()
    with open(port_file + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    while True:
        client, _ = listener.accept()
        server = socket.create_connection(("127.0.0.1", server_port))
        link = Link(client, server)
        threading.Thread(target=client_to_server, args=(link,), daemon=True).start()
        threading.Thread(target=server_to_client, args=(link,), daemon=True).start()


if __name__ == "__main__":
    main()

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
import socket
import struct
import sys
import threading

import loopback

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


def client_loses(link, kind, payload):
    """Whether the client's message is the COMMIT to lose (mode before); arms the link on ALTER EXTENSION."""
    if kind == b"Q" and b"ALTER EXTENSION" in payload:
        link.armed = True
    if kind == b"Q" and link.armed and payload.strip(b"\0 ;").upper() == b"COMMIT" and mode == "before":
        log("dropped the client's COMMIT")
        return True
    return False


def server_loses(link, kind, payload):
    """Whether the server's message is the answer to COMMIT to lose (mode after)."""
    if kind == b"C" and link.armed and payload.startswith(b"COMMIT") and mode == "after":
        log("dropped the server's answer to COMMIT")
        return True
    return False


def pump(link, source, sink, typed_from_start, loses):
    """Relays source's messages to sink until one is lost (then both sides are closed) or either side ends."""
    try:
        for raw, kind, payload in messages(source, typed_from_start):
            if loses(link, kind, payload):
                return
            sink.sendall(raw)
    except OSError:
        pass
    finally:
        if not link.closed:
            link.close()


def main():
    listener = loopback.listen(port_file)
    open(log_file, "a", encoding="utf-8").close()
    while True:
        client, _ = listener.accept()
        server = socket.create_connection(("127.0.0.1", server_port))
        link = Link(client, server)
        threading.Thread(target=pump, args=(link, client, server, False, client_loses), daemon=True).start()
        threading.Thread(target=pump, args=(link, server, client, True, server_loses), daemon=True).start()


if __name__ == "__main__":
    main()

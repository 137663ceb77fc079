#!/usr/bin/env python3
"""A host a pull request chose, for tests: it records what reaches it and nothing else.

It speaks just enough of the PostgreSQL protocol on 127.0.0.1 to pass for a
PgBouncer admin console (database "pgbouncer": trust, and SHOW CONFIG /
DATABASES / POOLS answered with one alias that routes back to itself), and on
every other database it asks for a cleartext password, so whatever a client
would send as a password is written to the capture file. Every connection is
logged there too.

usage: fake_endpoint.py PORT_FILE CAPTURE_FILE   (stops on SIGTERM, or after 10 minutes)
"""
import socket
import struct
import sys
import threading

import loopback

port_file, capture_file = sys.argv[1], sys.argv[2]
lock = threading.Lock()


def record(line):
    with lock, open(capture_file, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def message(kind, payload=b""):
    return kind + struct.pack("!I", len(payload) + 4) + payload


def rows(columns, values):
    out = message(b"T", struct.pack("!H", len(columns)) + b"".join(
        c.encode() + b"\0" + struct.pack("!IhIhih", 0, 0, 25, -1, -1, 0) for c in columns))
    for row in values:
        out += message(b"D", struct.pack("!H", len(row)) + b"".join(
            struct.pack("!I", len(v.encode())) + v.encode() for v in row))
    return out + message(b"C", b"SHOW\0") + message(b"Z", b"I")


def serve(conn, port):
    try:
        while True:
            length, code = struct.unpack("!II", read_exact(conn, 8))
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: not here
                conn.sendall(b"N")
                continue
            break
        fields = read_exact(conn, length - 8).split(b"\0")
        params = dict(zip(fields[0::2], fields[1::2]))
        database = params.get(b"database", b"").decode()
        user = params.get(b"user", b"").decode()
        record("connect user=%s database=%s" % (user, database))
        if database != "pgbouncer":
            conn.sendall(message(b"R", struct.pack("!I", 3)))  # AuthenticationCleartextPassword
            kind = read_exact(conn, 1)
            size = struct.unpack("!I", read_exact(conn, 4))[0]
            body = read_exact(conn, size - 4)
            if kind == b"p":
                record("password user=%s database=%s password=%s" % (user, database, body.rstrip(b"\0").decode()))
            error = b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"
            conn.sendall(message(b"E", error))
            return
        conn.sendall(message(b"R", struct.pack("!I", 0)) + message(b"S", b"server_version\x001.18.0\0") +
                     message(b"K", struct.pack("!II", 1, 1)) + message(b"Z", b"I"))
        while True:
            kind = read_exact(conn, 1)
            size = struct.unpack("!I", read_exact(conn, 4))[0]
            body = read_exact(conn, size - 4)
            if kind == b"X":
                return
            query = body.rstrip(b"\0").decode().strip().upper()
            if query == "SHOW DATABASES":
                conn.sendall(rows(["name", "host", "port", "database", "pool_mode", "pool_size"],
                                  [["postgres", "127.0.0.1", str(port), "postgres", "transaction", "20"]]))
            elif query.startswith("SHOW"):
                conn.sendall(rows(["key", "value"], []))
            else:
                conn.sendall(message(b"E", b"SERROR\0C08P01\0Mnot here\0\0") + message(b"Z", b"I"))
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def main():
    server = loopback.listen(port_file, 16)
    port = server.getsockname()[1]
    open(capture_file, "a", encoding="utf-8").close()
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn, port), daemon=True).start()


if __name__ == "__main__":
    main()

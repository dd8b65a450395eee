#!/usr/bin/env python3
"""SMTP sink for the notify lab test (runs inside a lab namespace).

usage: smtp_sink.py ok|stall ADDR PORT OUT

ok:    speaks just enough SMTP (220, 250, 354, 221) and appends one JSON line
       per received mail to OUT: {"helo", "from", "rcpt": [...], "data"}.
stall: accepts connections and never answers; appends {"connect": N}.
Prints "listening" on stdout once bound.
"""
import json
import socket
import sys
import threading

mode, addr, port, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
lock = threading.Lock()
held = []


def record(obj):
    with lock:
        with open(out, "a") as f:
            f.write(json.dumps(obj) + "\n")


def lines(conn):
    buf = b""
    while True:
        while b"\r\n" not in buf:
            chunk = conn.recv(4096)
            if not chunk:
                return
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        yield line.decode("utf-8", "replace"), buf


def serve(conn):
    f = conn.makefile("rb")
    w = conn.sendall
    w(b"220-sink ESMTP\r\n220 sink ready\r\n")
    mail = {"helo": None, "from": None, "rcpt": [], "data": None}
    while True:
        raw = f.readline()
        if not raw:
            return
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        verb = line.split(" ", 1)[0].upper()
        if verb == "HELO":
            mail["helo"] = line[5:]
            w(b"250 sink\r\n")
        elif line.upper().startswith("MAIL FROM:"):
            mail["from"] = line[10:]
            w(b"250 ok\r\n")
        elif line.upper().startswith("RCPT TO:"):
            mail["rcpt"].append(line[8:])
            w(b"250 ok\r\n")
        elif verb == "DATA":
            w(b"354 go ahead\r\n")
            data = b""
            while not data.endswith(b"\r\n.\r\n"):
                chunk = f.readline()
                if not chunk:
                    return
                data += chunk
            mail["data"] = data.decode("utf-8", "replace")
            record(mail)
            mail = {"helo": mail["helo"], "from": None, "rcpt": [], "data": None}
            w(b"250 queued\r\n")
        elif verb == "QUIT":
            w(b"221 bye\r\n")
            return
        else:
            w(b"502 what\r\n")


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    print("listening", file=sys.stderr, flush=True)
    n = 0
    while True:
        conn, _ = s.accept()
        n += 1
        if mode == "stall":
            held.append(conn)
            record({"connect": n})
            continue
        threading.Thread(target=lambda c=conn: (serve(c), c.close()), daemon=True).start()


main()

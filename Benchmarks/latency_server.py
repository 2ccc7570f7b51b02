"""A static file server that adds latency to every request, and counts what it serves.

  latency_server.py ROOT [--delay-ms 20] [--port 0]

Serves the files under ROOT over HTTP/1.1 on 127.0.0.1 (keep-alive, one thread per connection),
as an object store far away would: every request waits --delay-ms before it is answered. The first
line printed is the port (a free one unless --port is given); then it serves until killed.

Requests: GET and HEAD of files; `Range: bytes=a-b`, `bytes=a-` and `bytes=-n` answer 206 with
`Content-Range` (a range outside the file: 416 with `Content-Range: bytes */size`; several ranges:
the whole file, 200); `ETag` with `If-Match` (412) and `If-None-Match` (304); anything else 404.

Counters (not delayed, not counted): `GET /__stats` answers JSON: `requests` (every request
answered, by method in `by_method` and status in `by_status`), `body_bytes` (body bytes sent),
`peak_in_flight` (the most requests being answered at once, the delay included), `connections`
(TCP connections accepted) and `peak_connections` (open at once). `POST /__reset` (or GET) zeroes them.
"""
import argparse
import email.utils
import http.server
import json
import os
import socketserver
import sys
import threading
import time
import urllib.parse


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = 0
            self.by_method = {}
            self.by_status = {}
            self.body_bytes = 0
            self.in_flight = 0
            self.peak_in_flight = 0
            self.connections = 0
            self.open_connections = getattr(self, "open_connections", 0)
            self.peak_connections = self.open_connections

    def begin(self):
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def end(self, method, status, nbytes):
        with self.lock:
            self.in_flight -= 1
            self.requests += 1
            self.by_method[method] = self.by_method.get(method, 0) + 1
            self.by_status[str(status)] = self.by_status.get(str(status), 0) + 1
            self.body_bytes += nbytes

    def connected(self, delta):
        with self.lock:
            if delta > 0:
                self.connections += 1
            self.open_connections += delta
            self.peak_connections = max(self.peak_connections, self.open_connections)

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "by_method": dict(self.by_method), "by_status": dict(self.by_status),
                    "body_bytes": self.body_bytes, "peak_in_flight": self.peak_in_flight,
                    "connections": self.connections, "peak_connections": self.peak_connections}


def parse_range(header, size):
    """(start, end_exclusive) for one byte range, "unsatisfiable", or None to send everything."""
    if not header or not header.startswith("bytes="):
        return None
    spec = header[len("bytes="):].strip()
    if "," in spec:
        return None  # several ranges: answer the whole value, as S3 does
    first, dash, last = spec.partition("-")
    if not dash:
        return None
    try:
        if first == "":
            n = int(last)
            if n <= 0 or size == 0:
                return "unsatisfiable"
            return (max(0, size - n), size)
        start = int(first)
        end = size - 1 if last == "" else min(int(last), size - 1)
    except ValueError:
        return None
    if start >= size:
        return "unsatisfiable"
    if end < start:
        return None
    return (start, end + 1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the header and the body go out at once, no delayed-ACK stalls
    server_version = "latency_server"

    def setup(self):
        super().setup()
        self.server.stats.connected(1)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.stats.connected(-1)

    def log_message(self, *args):  # quiet
        pass

    def control(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/__stats":
            body = json.dumps(self.server.stats.snapshot()).encode()
        elif path == "/__reset":
            self.server.stats.reset()
            body = b"{}"
        else:
            return False
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return True

    def do_POST(self):
        if not self.control():
            self.send_error(405)

    def do_GET(self):
        if not self.control():
            self.serve(head=False)

    def do_HEAD(self):
        self.serve(head=True)

    def answer(self, status, headers, body=b"", path=None, span=None, head=False):
        """Sends the status line, headers and body in as few writes as possible; returns body bytes sent."""
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()  # flushes the header block
        if head:
            return 0
        if path is None:
            self.wfile.write(body)
            return len(body)
        start, end = span
        with open(path, "rb") as f:
            self.connection.sendfile(f, offset=start, count=end - start)
        return end - start

    def serve(self, head):
        stats = self.server.stats
        stats.begin()
        status, sent = 500, 0
        try:
            time.sleep(self.server.delay)
            status, sent = self.respond(head)
        finally:
            stats.end(self.command, status, sent)

    def respond(self, head):
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        full = os.path.realpath(os.path.join(self.server.root, rel))
        if not (full == self.server.root or full.startswith(self.server.root + os.sep)) or not os.path.isfile(full):
            body = b"not found\n"
            return 404, self.answer(404, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))], body, head=head)
        st = os.stat(full)
        size = st.st_size
        etag = '"%x-%x"' % (st.st_mtime_ns, size)
        common = [("ETag", etag), ("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True)),
                  ("Accept-Ranges", "bytes"), ("Content-Type", "application/octet-stream")]
        if_match = self.headers.get("If-Match")
        if if_match and if_match.strip() != "*" and etag not in [t.strip() for t in if_match.split(",")]:
            return 412, self.answer(412, common + [("Content-Length", "0")], head=head)
        if_none = self.headers.get("If-None-Match")
        if if_none and (if_none.strip() == "*" or etag in [t.strip() for t in if_none.split(",")]):
            return 304, self.answer(304, common, head=True)
        span = parse_range(self.headers.get("Range"), size)
        if span == "unsatisfiable":
            return 416, self.answer(416, common + [("Content-Range", f"bytes */{size}"), ("Content-Length", "0")], head=head)
        if span is None:
            return 200, self.answer(200, common + [("Content-Length", str(size))], path=full, span=(0, size), head=head)
        start, end = span
        headers = common + [("Content-Range", f"bytes {start}-{end - 1}/{size}"), ("Content-Length", str(end - start))]
        return 206, self.answer(206, headers, path=full, span=span, head=head)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the listen backlog: hundreds of connections may arrive at once
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root")
    p.add_argument("--delay-ms", type=float, default=20)
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    server = Server(("127.0.0.1", a.port), Handler)
    server.root = os.path.realpath(a.root)
    server.delay = a.delay_ms / 1000
    server.stats = Stats()
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())

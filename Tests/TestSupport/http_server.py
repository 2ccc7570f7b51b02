"""A static file server for the tests: serves a directory over HTTP with byte ranges.

    python3 http_server.py DIR [--no-range]

Prints the port it listens on (one line), then serves until killed or its stdin closes. Supports GET and HEAD with one
`Range: bytes=a-b | a- | -n` (answered 206 with Content-Range, or 416), 404 for missing files and
directories, and counts requests: GET /__requests answers the number of requests served so far and the body bytes
sent. With
--no-range the server ignores Range and always answers 200 with the whole file, as some servers do.
"""
import http.server
import os
import re
import signal
import sys
import threading

ROOT = os.path.abspath(sys.argv[1])
RANGES = "--no-range" not in sys.argv
COUNT = [0, 0]  # requests, body bytes sent
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body in one buffered write, sent at once (no 40 ms delayed-ACK stall per request).
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _target(self):
        rel = self.path.split("?", 1)[0].lstrip("/")
        from urllib.parse import unquote
        full = os.path.abspath(os.path.join(ROOT, unquote(rel)))
        if not (full == ROOT or full.startswith(ROOT + os.sep)) or not os.path.isfile(full):
            return None
        return full

    def _send(self, status, body, headers=(), head=False):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            if self.path != "/__requests":
                with LOCK:
                    COUNT[1] += len(body)
            self.wfile.write(body)

    def _serve(self, head):
        if self.path == "/__requests":
            with LOCK:
                stats = f"{COUNT[0]} {COUNT[1]}"
            return self._send(200, stats.encode(), head=head)
        with LOCK:
            COUNT[0] += 1
        full = self._target()
        if full is None:
            return self._send(404, b"not found", head=head)
        with open(full, "rb") as f:
            data = f.read()
        size = len(data)
        header = self.headers.get("Range")
        if RANGES and header:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
            if not m or (m.group(1) == "" and m.group(2) == ""):
                return self._send(400, b"bad range", head=head)
            if m.group(1) == "":
                n = int(m.group(2))
                start, end = max(0, size - n), size - 1
            else:
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            if start >= size or start > end:
                return self._send(416, b"", [("Content-Range", f"bytes */{size}")], head=head)
            return self._send(206, data[start:end + 1],
                              [("Content-Range", f"bytes {start}-{end}/{size}"), ("Accept-Ranges", "bytes")], head=head)
        return self._send(200, data, [("Accept-Ranges", "bytes" if RANGES else "none")], head=head)

    def do_GET(self):
        self._serve(False)

    def do_HEAD(self):
        self._serve(True)


def exit_with_parent():
    # The parent holds our stdin open; when it ends (or dies), so do we.
    sys.stdin.buffer.read()
    os._exit(0)


# A parent's blocked signals are inherited through spawn; make sure SIGTERM works.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
threading.Thread(target=exit_with_parent, daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()

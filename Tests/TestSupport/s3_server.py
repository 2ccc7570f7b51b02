"""A local S3 server for the tests: moto behind a small fault-injecting HTTP proxy, both on 127.0.0.1.

    python s3_server.py

Prints the proxy's port (one line), then reads commands on stdin, one per line, and answers each with one
line on stdout. Stops when stdin closes, on `quit`, or on SIGTERM. moto keeps its buckets in memory, in
this process; the proxy (the public port) forwards every request to it over a keep-alive connection, so
the server can "die" and come back on the same port with the same data.

Commands (answers are `ok`, a JSON value, or `error MESSAGE`):
  info                        {"port": P, "moto_port": M, "access_key_id", "secret_access_key", "role_arn"}
                              (M is moto itself, without the proxy)
  bucket NAME                 create the bucket (directly in moto: no fault applies, no request counted)
  reset                       wipe moto (every bucket) and clear the faults
  objects BUCKET [PREFIX]     [[key, size, etag], ...] for every object under PREFIX, in key order
  download BUCKET PREFIX DIR  write every object under PREFIX to DIR/<key without PREFIX>; answers the count
  put BUCKET KEY FILE         store FILE's bytes as KEY
  fail N STATUS CODE          answer the next N requests with STATUS and an S3 error body <Code>CODE</Code>
  down                        stop listening (connections are refused) and reset the open connections
  up                          listen again on the same port
  die-after N                 forward N more requests, then act as `down` (the request after them gets a reset)
  stats                       {"requests", "by_method", "by_status", "bytes_in", "bytes_out", "faults", "resets"}
  log                         [[method, path, status], ...] of the requests so far (status 0: reset, no answer)
  clear-stats                 zero the counters and the log
  quit                        stop

With --auth, the IAM role `role_arn` may read and write every bucket: its temporary credentials from STS
AssumeRoleWithWebIdentity (sent unsigned, as to AWS; any token is accepted) are checked like the user's.

Statistics count what reaches the proxy: requests (including those answered by a fault, or reset), body bytes
received (bytes_in) and body bytes sent (bytes_out).
"""
import json
import logging
import os
import signal
import socket
import struct
import sys
import threading
import time

for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                    ("AWS_REGION", "us-east-1"), ("AWS_DEFAULT_REGION", "us-east-1")):
    os.environ.setdefault(name, value)
for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    os.environ.pop(name, None)
logging.getLogger("werkzeug").setLevel(logging.ERROR)
# --auth: moto checks every request like AWS (IAM access keys, SigV4 signatures, policies). The first
# five actions (the IAM user, its key and its policy, the role and its policy) are the only
# unauthenticated ones.
AUTH = "--auth" in sys.argv[1:]
if AUTH:
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "5"
ROLE_ARN = "arn:aws:iam::123456789012:role/web-identity"

import http.client  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

if AUTH:
    # AWS takes AssumeRoleWithWebIdentity unsigned (the token is the credential); moto 5.2.6 with
    # authentication on looks for the Authorization header and answers 500.
    _authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def _authenticate_unless_web_identity(self, iam_request_cls, resource="*"):
        if "Authorization" not in self.headers and self._get_action() == "AssumeRoleWithWebIdentity":
            return
        _authenticate(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_unless_web_identity

HOST = "127.0.0.1"
PIECE = 1 << 20
DEBUG = bool(os.environ.get("S3_SERVER_DEBUG"))


class State:
    """The proxy's faults and counters, guarded by one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.fail = None  # [remaining, status, code]
        self.die_after = None  # requests still forwarded before going down
        self.down = False
        self.stats_zero()

    def stats_zero(self):
        self.requests = 0
        self.by_method = {}
        self.by_status = {}
        self.bytes_in = 0
        self.bytes_out = 0
        self.faults = 0
        self.resets = 0
        self.log = []

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "by_method": dict(self.by_method),
                    "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                    "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
                    "faults": self.faults, "resets": self.resets}

    def finished(self, entry, status, sent):
        with self.lock:
            entry[2] = status
            self.by_status[status] = self.by_status.get(status, 0) + 1
            self.bytes_out += sent
            if status == 0:
                self.resets += 1


STATE = State()


class Proxy:
    """Accepts connections on the public port; one thread per client connection."""

    def __init__(self, backend_port):
        self.backend_port = backend_port
        self.listener = None
        self.port = 0
        self.clients = set()
        self.clients_lock = threading.Lock()
        self.listen()
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, self.port))
        s.listen(128)
        s.settimeout(0.1)
        self.port = s.getsockname()[1]
        self.listener = s

    def accept_loop(self):
        while True:
            s = self.listener
            if s is None:
                time.sleep(0.02)
                continue
            try:
                conn, _ = s.accept()
            except (socket.timeout, OSError):
                continue
            conn.settimeout(None)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.clients_lock:
                self.clients.add(conn)
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def go_down(self):
        """Closes the listener (new connections are refused) and resets every open connection."""
        with STATE.lock:
            STATE.down = True
            STATE.die_after = None
        s, self.listener = self.listener, None
        if s is not None:
            s.close()
        with self.clients_lock:
            clients = list(self.clients)
        for c in clients:
            try:
                # Wakes the connection's thread (a blocked recv returns b""), which then resets it.
                c.shutdown(socket.SHUT_RD)
            except OSError:
                pass

    def come_up(self):
        with STATE.lock:
            STATE.down = False
        if self.listener is None:
            self.listen()

    def serve(self, conn):
        reader = conn.makefile("rb")
        backend = None
        try:
            while True:
                request = read_request(reader)
                if request is None or STATE.down:
                    break
                method, target, version, headers = request
                entry = [method, target, 0]
                with STATE.lock:
                    STATE.requests += 1
                    STATE.by_method[method] = STATE.by_method.get(method, 0) + 1
                    STATE.log.append(entry)
                    if len(STATE.log) > 200000:
                        del STATE.log[:100000]
                    fault = None
                    die = False
                    if STATE.fail is not None:
                        fault = (STATE.fail[1], STATE.fail[2])
                        STATE.fail[0] -= 1
                        if STATE.fail[0] <= 0:
                            STATE.fail = None
                        STATE.faults += 1
                    elif STATE.die_after is not None:
                        if STATE.die_after <= 0:
                            die = True
                        else:
                            STATE.die_after -= 1
                if die:
                    STATE.finished(entry, 0, 0)
                    self.go_down()
                    break
                expect = header(headers, "expect").lower() == "100-continue"
                close = wants_close(version, headers)
                if fault is not None:
                    if expect:
                        # The client waits for 100 Continue before its body: answer now, then close.
                        close = True
                    else:
                        n = forward_body(reader, headers, None)
                        with STATE.lock:
                            STATE.bytes_in += n
                    sent = send_error(conn, method, fault[0], fault[1], close)
                    STATE.finished(entry, fault[0], sent)
                    if close:
                        break
                    continue
                if expect:
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                if backend is None:
                    backend = socket.create_connection((HOST, self.backend_port))
                    backend.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                head = [f"{method} {target} {version}\r\n".encode("latin-1")]
                for k, v in headers:
                    if k.lower() != "expect":
                        head.append(f"{k}: {v}\r\n".encode("latin-1"))
                head.append(b"\r\n")
                backend.sendall(b"".join(head))
                n = forward_body(reader, headers, backend)
                with STATE.lock:
                    STATE.bytes_in += n
                response = http.client.HTTPResponse(backend, method=method)
                response.begin()
                if STATE.down:
                    STATE.finished(entry, 0, 0)
                    break
                sent, backend_closes = relay_response(conn, method, response, close)
                STATE.finished(entry, response.status, sent)
                if backend_closes:
                    backend.close()
                    backend = None
                if close:
                    break
        except (OSError, http.client.HTTPException, ValueError) as e:
            if DEBUG:
                print(f"s3_server: connection ended: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        finally:
            with self.clients_lock:
                self.clients.discard(conn)
            if backend is not None:
                backend.close()
            try:
                reader.close()
                if STATE.down:
                    # Reset (RST), not an orderly close: the server "died".
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            except OSError:
                pass


def read_request(reader):
    """(method, target, version, [(name, value)]) of the next request, or None at the end of the connection."""
    line = reader.readline(65537)
    while line in (b"\r\n", b"\n"):
        line = reader.readline(65537)
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3:
        raise ValueError("bad request line")
    headers = []
    while True:
        h = reader.readline(65537)
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.decode("latin-1").rstrip("\r\n").partition(":")
        headers.append((name.strip(), value.strip()))
    return parts[0], parts[1], parts[2], headers


def header(headers, name):
    for k, v in headers:
        if k.lower() == name:
            return v
    return ""


def wants_close(version, headers):
    connection = header(headers, "connection").lower()
    return "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)


def forward_body(reader, headers, sink):
    """Reads the request body (Content-Length or chunked, forwarded as received) and sends it to `sink`
    (a socket, or None to discard it); returns the number of body bytes."""
    if "chunked" in header(headers, "transfer-encoding").lower():
        total = 0
        while True:
            size_line = reader.readline(65537)
            if not size_line:
                raise ValueError("truncated chunked body")
            size = int(size_line.split(b";")[0].strip(), 16)
            data = size_line
            if size:
                data += reader.read(size) + reader.readline(65537)
                total += size
                if sink is not None:
                    sink.sendall(data)
                continue
            # The last chunk, then trailers up to an empty line.
            while True:
                t = reader.readline(65537)
                data += t
                if t in (b"\r\n", b"\n", b""):
                    break
            if sink is not None:
                sink.sendall(data)
            return total
    length = int(header(headers, "content-length") or "0")
    left = length
    while left > 0:
        piece = reader.read(min(left, PIECE))
        if not piece:
            raise ValueError("truncated body")
        left -= len(piece)
        if sink is not None:
            sink.sendall(piece)
    return length


def relay_response(conn, method, response, client_closes):
    """Sends the backend's response to the client; returns (body bytes sent, whether the backend closes)."""
    status = response.status
    no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
    items = [(k, v) for k, v in response.msg.items()
             if k.lower() not in ("transfer-encoding", "connection", "keep-alive")]
    length = response.getheader("content-length")
    chunked = "chunked" in (response.getheader("transfer-encoding") or "").lower()
    body = None
    if not no_body and (chunked or length is None):
        body = response.read()
        items = [(k, v) for k, v in items if k.lower() != "content-length"] + [("Content-Length", str(len(body)))]
    if client_closes:
        items.append(("Connection", "close"))
    head = [f"HTTP/1.1 {status} {response.reason}\r\n".encode("latin-1")]
    head += [f"{k}: {v}\r\n".encode("latin-1") for k, v in items]
    head.append(b"\r\n")
    conn.sendall(b"".join(head))
    sent = 0
    if no_body:
        response.read()
    elif body is not None:
        conn.sendall(body)
        sent = len(body)
    else:
        while True:
            piece = response.read(PIECE)
            if not piece:
                break
            conn.sendall(piece)
            sent += len(piece)
    return sent, response.will_close


ERROR_MESSAGES = {"SlowDown": "Please reduce your request rate.",
                  "InternalError": "We encountered an internal error. Please try again.",
                  "ServiceUnavailable": "Service is unable to handle request."}


def send_error(conn, method, status, code, close):
    """Answers with an S3 error (no body for HEAD, as S3 does); returns the body bytes sent."""
    message = ERROR_MESSAGES.get(code, "Injected by the test server.")
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f'<RequestId>FAULT{STATE.faults}</RequestId></Error>').encode()
    reason = http.client.responses.get(status, "Error")
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
            f"x-amz-request-id: FAULT{STATE.faults}\r\nContent-Length: {len(body)}\r\n"
            + ("Connection: close\r\n" if close else "") + "\r\n").encode()
    if method == "HEAD":
        conn.sendall(head)
        return 0
    conn.sendall(head + body)
    return len(body)


def main():
    # A parent's blocked signals are inherited through spawn; make sure SIGTERM works.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    moto.start()
    moto_port = moto.get_host_and_port()[1]
    direct = f"http://{HOST}:{moto_port}"
    proxy = Proxy(moto_port)
    key_id, secret = "testing", "testing"
    if AUTH:
        iam = boto3.client("iam", endpoint_url=direct, region_name="us-east-1")
        iam.create_user(UserName="tester")
        key = iam.create_access_key(UserName="tester")["AccessKey"]
        key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="tester", PolicyName="s3", PolicyDocument=json.dumps(policy))
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                                                         "Principal": {"Federated": "test-oidc-provider"}}]}
        iam.create_role(RoleName="web-identity", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName="web-identity", PolicyName="s3", PolicyDocument=json.dumps(policy))
    client = boto3.client("s3", endpoint_url=direct, region_name="us-east-1",
                          aws_access_key_id=key_id, aws_secret_access_key=secret,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    print(proxy.port, flush=True)

    def objects(bucket, prefix):
        out = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out += [[o["Key"], o["Size"], o["ETag"]] for o in page.get("Contents", [])]
        return out

    def run(words):
        cmd = words[0] if words else ""
        if cmd == "info":
            return json.dumps({"port": proxy.port, "moto_port": moto_port, "access_key_id": key_id, "secret_access_key": secret,
                               "role_arn": ROLE_ARN})
        if cmd == "bucket" and len(words) == 2:
            client.create_bucket(Bucket=words[1])
            return "ok"
        if cmd == "reset":
            http_post(moto_port, "/moto-api/reset")
            with STATE.lock:
                STATE.fail = None
                STATE.die_after = None
            return "ok"
        if cmd == "objects" and len(words) in (2, 3):
            return json.dumps(objects(words[1], words[2] if len(words) == 3 else ""))
        if cmd == "download" and len(words) == 4:
            bucket, prefix, root = words[1], words[2], words[3]
            n = 0
            for key, _, _ in objects(bucket, prefix):
                rel = key[len(prefix):].lstrip("/")
                path = os.path.join(root, rel)
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                with open(path, "wb") as f:
                    f.write(client.get_object(Bucket=bucket, Key=key)["Body"].read())
                n += 1
            return str(n)
        if cmd == "put" and len(words) == 4:
            with open(words[3], "rb") as f:
                client.put_object(Bucket=words[1], Key=words[2], Body=f.read())
            return "ok"
        if cmd == "fail" and len(words) == 4:
            n, status = int(words[1]), int(words[2])
            with STATE.lock:
                STATE.fail = [n, status, words[3]] if n > 0 else None
            return "ok"
        if cmd == "down":
            proxy.go_down()
            return "ok"
        if cmd == "up":
            proxy.come_up()
            return "ok"
        if cmd == "die-after" and len(words) == 2:
            with STATE.lock:
                STATE.die_after = int(words[1])
            return "ok"
        if cmd == "stats":
            return json.dumps(STATE.stats())
        if cmd == "log":
            with STATE.lock:
                return json.dumps(STATE.log)
        if cmd == "clear-stats":
            with STATE.lock:
                STATE.stats_zero()
            return "ok"
        raise ValueError(f"unknown command {' '.join(words)!r}")

    for line in sys.stdin:
        # Words are separated by single spaces; %XX escapes allow spaces in keys and paths.
        words = [unquote(w) for w in line.rstrip("\n").split(" ")] if line.strip() else []
        if words == ["quit"]:
            break
        try:
            answer = run(words)
        except Exception as e:  # noqa: BLE001 - every failure is an answer
            answer = "error " + f"{type(e).__name__}: {e}".replace("\n", " ")
        print(answer, flush=True)
    os._exit(0)


def unquote(word):
    from urllib.parse import unquote as u
    return u(word)


def http_post(port, path):
    c = http.client.HTTPConnection(HOST, port, timeout=30)
    c.request("POST", path, body=b"")
    c.getresponse().read()
    c.close()


if __name__ == "__main__":
    main()

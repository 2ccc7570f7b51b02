"""A fake of the AWS credential endpoints for the tests (standard-library Python), on 127.0.0.1.

    python3 credentials_server.py [--expires-in SECONDS] [--authorization TOKEN] [--no-role] [--sts-error]

Prints the port it listens on (one line), then serves until its stdin closes. Every answer carries new
credentials (`ASIA<KIND><n>`, `SECRET<kind><n>`, `TOKEN<kind><n>`) that expire SECONDS from now (3600).

  GET  /container                      the ECS/EKS container endpoint: JSON credentials; 401 unless the
                                       Authorization header is TOKEN (when --authorization is given)
  PUT  /latest/api/token               IMDSv2: a session token; 400 without X-aws-ec2-metadata-token-ttl-seconds
  GET  /latest/meta-data/iam/security-credentials/        the role name `test-role` (404 with --no-role)
  GET  /latest/meta-data/iam/security-credentials/ROLE    JSON credentials of the role
                                       (both 401 without a token the server gave)
  POST /                               STS AssumeRoleWithWebIdentity (form): XML credentials; with
                                       --sts-error, a 403 AccessDenied error document
  GET  /__counts                       {"container", "token", "roles", "credentials", "sts": n, "last_sts": {form}}
"""
import http.server
import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs

args = sys.argv[1:]
EXPIRES_IN = int(args[args.index("--expires-in") + 1]) if "--expires-in" in args else 3600
AUTHORIZATION = args[args.index("--authorization") + 1] if "--authorization" in args else None
NO_ROLE = "--no-role" in args
STS_ERROR = "--sts-error" in args
LOCK = threading.Lock()
COUNTS = {"container": 0, "token": 0, "roles": 0, "credentials": 0, "sts": 0, "last_sts": {}}
TOKENS = set()
ROLE = "test-role"


def expiration():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + EXPIRES_IN))


def count(name):
    with LOCK:
        COUNTS[name] += 1
        return COUNTS[name]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def metadata_token_ok(self):
        with LOCK:
            return self.headers.get("X-aws-ec2-metadata-token") in TOKENS

    def do_GET(self):
        if self.path == "/__counts":
            with LOCK:
                return self.send(200, json.dumps(COUNTS))
        if self.path == "/container":
            if AUTHORIZATION is not None and self.headers.get("Authorization") != AUTHORIZATION:
                return self.send(401, json.dumps({"code": "InvalidToken", "message": "the Authorization header is missing or wrong"}))
            n = count("container")
            return self.send(200, json.dumps({
                "AccessKeyId": f"ASIACONTAINER{n}", "SecretAccessKey": f"SECRETcontainer{n}", "Token": f"TOKENcontainer{n}",
                "Expiration": expiration(), "RoleArn": "arn:aws:iam::123456789012:role/task"}))
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(prefix):
            if not self.metadata_token_ok():
                return self.send(401, "", "text/plain")
            role = self.path[len(prefix):]
            if role == "":
                count("roles")
                return self.send(404, "", "text/plain") if NO_ROLE else self.send(200, ROLE + "\n", "text/plain")
            if role != ROLE:
                return self.send(404, "", "text/plain")
            n = count("credentials")
            return self.send(200, json.dumps({
                "Code": "Success", "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "Type": "AWS-HMAC",
                "AccessKeyId": f"ASIAIMDS{n}", "SecretAccessKey": f"SECRETimds{n}", "Token": f"TOKENimds{n}",
                "Expiration": expiration()}))
        return self.send(404, "", "text/plain")

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or "0")
        self.rfile.read(length)
        if self.path != "/latest/api/token":
            return self.send(404, "", "text/plain")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.send(400, "", "text/plain")
        n = count("token")
        token = f"IMDSTOKEN{n}"
        with LOCK:
            TOKENS.add(token)
        return self.send(200, token, "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or "0")
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        n = count("sts")
        with LOCK:
            COUNTS["last_sts"] = form
        if STS_ERROR:
            return self.send(403, '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                                  '<Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message>'
                                  '</Error><RequestId>0</RequestId></ErrorResponse>', "text/xml")
        return self.send(200, f"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIASTS{n}</AccessKeyId>
      <SecretAccessKey>SECRETsts{n}</SecretAccessKey>
      <SessionToken>TOKENsts{n}</SessionToken>
      <Expiration>{expiration()}</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>
""", "text/xml")


def exit_with_parent():
    # The parent holds our stdin open; when it ends (or dies), so do we.
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()

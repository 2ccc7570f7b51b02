"""Clients of `ome2zarr serve` for the tests: raw HTTP checks, Zarr peers, and a load of many clients.

    serve_clients.py checks URL KEY          -> JSON: one answer per probe (status, headers, body length)
    serve_clients.py raw URL PATH [HEADER=VALUE ...] -> JSON: one answer for a raw path (no normalisation)
    serve_clients.py peers URL LEVEL OUT     -> writes OUT.tensorstore and OUT.zarr-python (level's bytes, C order)
    serve_clients.py load URL KEY SIZE SECONDS CLIENTS -> JSON: requests, failures, bytes
    serve_clients.py wire URL KEY FILE       -> JSON: keep-alive, pipelining and malformed requests on raw sockets
"""
import http.client
import json
import random
import socket
import sys
import threading
import time
import urllib.parse


def split(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port, u.path


def ask(host, port, method, path, headers=None):
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    headers = dict(headers or {})
    headers.setdefault("Host", f"{host}:{port}")
    for k, v in headers.items():
        c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return {"status": r.status, "headers": {k.lower(): v for k, v in r.getheaders()}, "length": len(body),
            "body": body.decode("latin-1") if len(body) <= 256 else None}


def cmd_checks(url, key):
    host, port, base = split(url)
    p = base + key
    probes = {
        "get": ("GET", p, {}),
        "head": ("HEAD", p, {}),
        "range": ("GET", p, {"Range": "bytes=10-19"}),
        "range_past_end": ("GET", p, {"Range": "bytes=10-999999999"}),
        "suffix": ("GET", p, {"Range": "bytes=-16"}),
        "suffix_larger": ("GET", p, {"Range": "bytes=-999999999"}),
        "open_range": ("GET", p, {"Range": "bytes=5-"}),
        "unsatisfiable": ("GET", p, {"Range": "bytes=999999999-"}),
        "multi_range": ("GET", p, {"Range": "bytes=0-1,4-5"}),
        "options": ("OPTIONS", p, {"Origin": "http://viewer.example", "Access-Control-Request-Method": "GET",
                                   "Access-Control-Request-Headers": "range"}),
        "missing": ("GET", base + "nothing/.zattrs", {}),
        "directory": ("GET", base + key.rsplit("/", 1)[0] + "/", {}),
        "no_token": ("GET", "/" + key, {}),
        "wrong_token": ("GET", "/" + "0" * 40 + "/" + key, {}),
        "dotdot": ("GET", base + "../" + key, {}),
        "encoded_dotdot": ("GET", base + "%2e%2e/" + key, {}),
        "encoded_slash": ("GET", base + "a%2f..%2f" + key, {}),
        "post": ("POST", p, {}),
        "evil_host": ("GET", p, {"Host": "attacker.example"}),
    }
    out = {name: ask(host, port, m, path, h) for name, (m, path, h) in probes.items()}
    etag = out["get"]["headers"].get("etag")
    out["if_none_match"] = ask(host, port, "GET", p, {"If-None-Match": etag})
    out["if_range_other"] = ask(host, port, "GET", p, {"Range": "bytes=0-0", "If-Range": '"other"'})
    out["if_range_same"] = ask(host, port, "GET", p, {"Range": "bytes=0-0", "If-Range": etag})
    print(json.dumps(out))


def cmd_raw(url, path, *headers):
    host, port, _ = split(url)
    print(json.dumps(ask(host, port, "GET", path, dict(h.split("=", 1) for h in headers))))


def cmd_peers(url, level, out):
    import numpy as np
    import tensorstore as ts
    import zarr
    from obstore.store import HTTPStore
    from zarr.storage import ObjectStore
    t = ts.open({"driver": "zarr3", "kvstore": url + level + "/"}).result().read().result()
    open(out + ".tensorstore", "wb").write(np.ascontiguousarray(t).tobytes())
    store = ObjectStore(HTTPStore.from_url(url.rstrip("/"), client_options={"allow_http": True}), read_only=True)
    z = zarr.open_array(store, path=level, mode="r")[...]
    open(out + ".zarr-python", "wb").write(np.ascontiguousarray(z).tobytes())


def cmd_load(url, key, size, seconds, clients):
    host, port, base = split(url)
    size, seconds, clients = int(size), float(seconds), int(clients)
    counts = {"requests": 0, "failures": 0, "bytes": 0}
    lock = threading.Lock()
    end = time.time() + seconds

    def client(seed):
        rng = random.Random(seed)
        c = http.client.HTTPConnection(host, port, timeout=30)
        n = f = b = 0
        while time.time() < end:
            length = rng.randint(1, 65536)
            start = rng.randrange(0, max(1, size - length))
            try:
                c.request("GET", base + key, headers={"Range": f"bytes={start}-{start + length - 1}"})
                r = c.getresponse()
                body = r.read()
                ok = r.status == 206 and len(body) == min(length, size - start)
            except Exception:
                ok = False
                c.close()
                c = http.client.HTTPConnection(host, port, timeout=30)
            n += 1
            f += 0 if ok else 1
            b += len(body) if ok else 0
        with lock:
            counts["requests"] += n
            counts["failures"] += f
            counts["bytes"] += b

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(counts))


def read_answers(sock, count, heads=()):
    """Reads `count` HTTP answers from `sock` (bodies by Content-Length; none for the indices in
    `heads`, answers to HEAD); returns them and whether the server closed the connection after."""
    data = b""
    answers = []
    sock.settimeout(10)
    while len(answers) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return answers, True
            data += chunk
        head, data = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = 0 if len(answers) in heads else int(fields.get("content-length", "0"))
        while len(data) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        body, data = data[:length], data[length:]
        answers.append({"status_line": lines[0], "status": int(lines[0].split()[1]), "headers": fields, "body": body})
    sock.settimeout(1)
    try:
        closed = sock.recv(1) == b""
    except socket.timeout:
        closed = False
    return answers, closed


def cmd_wire(url, key, local):
    host, port, base = split(url)
    p = base + key
    expected = open(local, "rb").read()
    hosted = f"Host: {host}:{port}\r\n"

    def exchange(payload, count, heads=()):
        s = socket.create_connection((host, port))
        s.sendall(payload)
        answers, closed = read_answers(s, count, heads)
        s.close()
        return answers, closed

    out = {}
    # Three requests in one packet: answered in order, each with its own bytes; HEAD has no body.
    pipelined = (f"GET {p} HTTP/1.1\r\n{hosted}Range: bytes=0-9\r\n\r\n"
                 f"HEAD {p} HTTP/1.1\r\n{hosted}\r\n"
                 f"GET {p} HTTP/1.1\r\n{hosted}Range: bytes=10-19\r\n\r\n").encode()
    answers, closed = exchange(pipelined, 3, heads=(1,))
    out["pipelined"] = {
        "statuses": [a["status"] for a in answers],
        "bodies_match": len(answers) == 3 and answers[0]["body"] == expected[0:10] and answers[2]["body"] == expected[10:20],
        "head_length": answers[1]["headers"].get("content-length") if len(answers) > 1 else None,
        "closed": closed,
    }
    # A request that does not parse: 400 with CORS, then the connection ends.
    answers, closed = exchange(b"NOT HTTP AT ALL\r\n\r\n", 1)
    out["malformed"] = {"status": answers[0]["status"] if answers else None, "closed": closed,
                        "cors": answers[0]["headers"].get("access-control-allow-origin") if answers else None}
    # A good request, then garbage: the first is answered, then 400, then the connection ends.
    answers, closed = exchange(f"GET {p} HTTP/1.1\r\n{hosted}\r\nNOT HTTP\r\n\r\n".encode(), 2)
    out["good_then_garbage"] = {"statuses": [a["status"] for a in answers], "closed": closed}
    # HTTP/1.0: closed after the answer unless it asks for keep-alive.
    answers, closed = exchange(f"GET {p} HTTP/1.0\r\n{hosted}\r\n".encode(), 1)
    out["http10"] = {"status": answers[0]["status"] if answers else None, "closed": closed,
                     "connection": answers[0]["headers"].get("connection") if answers else None}
    two = f"GET {p} HTTP/1.0\r\n{hosted}Connection: keep-alive\r\n\r\n" * 2
    answers, closed = exchange(two.encode(), 2)
    out["http10_keep_alive"] = {"statuses": [a["status"] for a in answers], "closed": closed,
                                "connection": answers[0]["headers"].get("connection") if answers else None}
    # HTTP/1.1 with Connection: close: one answer, then closed (a request after it is not answered).
    answers, closed = exchange((f"GET {p} HTTP/1.1\r\n{hosted}Connection: close\r\n\r\n"
                                f"GET {p} HTTP/1.1\r\n{hosted}\r\n").encode(), 2)
    out["close"] = {"statuses": [a["status"] for a in answers], "closed": closed,
                    "connection": answers[0]["headers"].get("connection") if answers else None}
    print(json.dumps(out))


if __name__ == "__main__":
    cmd = sys.argv[1]
    {"checks": cmd_checks, "raw": cmd_raw, "peers": cmd_peers, "load": cmd_load, "wire": cmd_wire}[cmd](*sys.argv[2:])

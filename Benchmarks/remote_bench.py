"""The remote benchmarks (Benchmarks/run remote drives them): reads over HTTP with latency, writes to S3.

  remote_bench.py reads --bin BIN --array DIR --coords FILE [--region R] [--delay-ms 20] [--io-concurrency 32] [--repeats 3]
  remote_bench.py writes --bin BIN --tiff TIFF --work DIR [--io-concurrency 32] [--repeats 3]

reads: serves the directory holding the array DIR with latency_server.py (every request answered after
--delay-ms) and reads (a) the region R and (b) the 64^3 chunks listed in FILE (one read call each) with
zarr-bench, TensorStore and zarr-python (obstore), resetting the server's counters before each run.
writes: starts moto_server on a free loopback port and times `ome2zarr convert TIFF` to a directory, the
same convert to s3://bench/out.ome.zarr, and a boto3 upload of the directory (--io-concurrency threads);
checks that the bucket's objects equal the directory's files byte for byte.

Prints JSON lines: one per implementation and task (best of the repeats), then checks and ratios.
Progress goes to stderr.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
OURS = "ome-zarr-swift"
PEERS = ("tensorstore", "zarr-python")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def emit(obj):
    print(json.dumps(obj), flush=True)


def run_json(cmd, env=None, stderr_time=False):
    """Runs a command that prints one JSON object; the object, or {"error": ...}. With stderr_time, the
    command is run under GNU time -f "TIME %U %S", whose line adds cpu_seconds."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return {"error": f"exit {p.returncode}: {' '.join(cmd)}: {p.stderr.strip()[-800:]}"}
    try:
        out = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"no JSON from {' '.join(cmd)}: {p.stdout[-400:]}"}
    if stderr_time:
        for line in p.stderr.splitlines():
            if line.startswith("TIME "):
                out["cpu_seconds"] = sum(float(v) for v in line.split()[1:])
    return out


def best_of(runs):
    """The run with the least seconds (errors aside), or the first error."""
    ok = [r for r in runs if "error" not in r]
    return min(ok, key=lambda r: r["seconds"]) if ok else runs[0]


# MARK: reads


class LatencyServer:
    def __init__(self, root, delay_ms):
        self.proc = subprocess.Popen([PY, os.path.join(HERE, "latency_server.py"), root, "--delay-ms", str(delay_ms)],
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.base = f"http://127.0.0.1:{self.port}"

    def call(self, path, method="GET"):
        req = urllib.request.Request(self.base + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    def reset(self):
        self.call("/__reset", "POST")

    def stats(self):
        return self.call("/__stats")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def bare_client_floor(server, array_name, coords):
    """The floor's requests (metadata, each shard's index once, one range per chunk) sent one after
    another by a bare keep-alive client (http.client, nothing decoded): what this server and this
    delay allow at best; seconds and the server's request count."""
    import http.client
    import struct
    conn = http.client.HTTPConnection("127.0.0.1", server.port)

    def get(path, rng=None):
        conn.request("GET", f"/{array_name}/{path}", headers={"Range": rng} if rng else {})
        r = conn.getresponse()
        body = r.read()
        assert r.status in (200, 206), (path, rng, r.status)
        return body

    server.reset()
    t0 = time.perf_counter()
    get("zarr.json")
    indexes = {}
    for z, y, x in coords:
        shard = (z // 2, y // 8, x // 8)
        key = "c/%d/%d/%d" % shard
        if shard not in indexes:
            raw = get(key, "bytes=-%d" % (128 * 16 + 4))  # 128 (offset, length) pairs + crc32c
            indexes[shard] = struct.unpack("<256Q", raw[:-4])
        i = ((z % 2) * 8 + y % 8) * 8 + x % 8
        offset, length = indexes[shard][2 * i], indexes[shard][2 * i + 1]
        get(key, "bytes=%d-%d" % (offset, offset + length - 1))
    seconds = time.perf_counter() - t0
    conn.close()
    return seconds, server.stats()["requests"]


def reads(a):
    coords = [tuple(int(v) for v in line.split()) for line in open(a.coords) if line.strip()]
    shards = {(z // 2, y // 8, x // 8) for z, y, x in coords}  # shards of 128 x 512 x 512 = 2 x 8 x 8 chunks
    array = os.path.abspath(a.array)
    server = LatencyServer(os.path.dirname(array), a.delay_ms)
    url = f"{server.base}/{os.path.basename(array)}"
    log(f"remote reads: {url}, {a.delay_ms} ms per request")
    zb = os.path.join(a.bin, "zarr-bench")
    conc = str(a.io_concurrency)
    regions = {"remote_region": a.region, "remote_region_aligned": a.aligned_region}
    commands = {}
    script = os.path.join(HERE, "peers_bench.py")
    for impl in (OURS,) + PEERS:
        for task, region in regions.items():
            commands[(impl, task)] = ([zb, "remote-region", url, region, "--io-concurrency", conc] if impl == OURS
                                      else [PY, script, impl, "remote-region", url, region, conc])
        commands[(impl, "remote_chunks")] = ([zb, "remote-chunks", url, a.coords, "--io-concurrency", conc] if impl == OURS
                                             else [PY, script, impl, "remote-chunks", url, a.coords, conc])
    runs = {k: [] for k in commands}
    try:
        for rep in range(a.repeats):
            for key, cmd in commands.items():
                log(f"benchmark: remote reads, repeat {rep + 1}, {key[0]} {key[1]}")
                server.reset()
                res = run_json(cmd)
                res["server"] = server.stats()
                runs[key].append(res)
        floors = [bare_client_floor(server, os.path.basename(array), coords) for _ in range(a.repeats)]
    finally:
        server.stop()
    # The same reads from the files (no server): the true checksums, and the time without latency.
    local = {task: run_json([zb, "remote-region", array, region]) for task, region in regions.items()}
    local["remote_chunks"] = run_json([zb, "remote-chunks", array, a.coords])
    best = {}
    for key, rs in runs.items():
        b = best_of(rs)
        impl, task = key
        if "error" in b:
            emit({"impl": impl, "task": task, "error": b["error"]})
            continue
        s = b["server"]
        requests = sorted({r["server"]["requests"] for r in rs if "error" not in r})
        line = {"impl": impl, "task": task, "seconds": round(b["seconds"], 4),
                **({"region": regions[task]} if task in regions else {"reads": len(coords)}),
                "mb_per_s": round(b["bytes"] / b["seconds"] / 1e6, 1),
                "requests": s["requests"], "by_method": s["by_method"], "body_mb": round(s["body_bytes"] / 1e6, 2),
                "peak_in_flight": s["peak_in_flight"], "connections": s["connections"],
                "peak_rss_mb": round(b["peak_rss_mb"], 1), "io_concurrency": b.get("io_concurrency"),
                "delay_ms": a.delay_ms if a.delay_ms % 1 else int(a.delay_ms)}
        if len(requests) > 1:
            line["requests_over_repeats"] = requests
        if impl == OURS:
            line["client_requests"] = b.get("requests")
            line["client_peak_in_flight"] = b.get("peak_in_flight")
        truth = local[task]
        if "error" not in truth:
            line["checksum_matches_files"] = b["checksum"] == truth["checksum"]
        best[key] = b
        line["checksum_matches_ours"] = (OURS, task) in best and best[(OURS, task)]["checksum"] == b["checksum"]
        emit(line)
    for task, truth in local.items():
        if "error" in truth:
            emit({"impl": OURS, "task": task.replace("remote", "local"), "error": truth["error"]})
        else:
            emit({"impl": OURS, "task": task.replace("remote", "local"), "seconds": round(truth["seconds"], 4),
                  "note": "the same read from the files, no server (what latency costs is the difference)"})
    # Ratios.
    for task in list(regions) + ["remote_chunks"]:
        ours = best.get((OURS, task))
        if not ours:
            continue
        for peer in PEERS:
            p = best.get((peer, task))
            if not p:
                continue
            line = {"ratio": f"{OURS} vs {peer}", "task": task, "speedup": round(p["seconds"] / ours["seconds"], 2)}
            if task.startswith("remote_region") and peer == "tensorstore":
                line.update(target=">= 1.5", met=line["speedup"] >= 1.5)
            emit(line)
            ro, rp = ours["server"]["requests"], p["server"]["requests"]
            emit({"ratio": f"requests, {OURS} vs {peer}", "task": task, "ours": ro, "peer": rp,
                  "target": "ours <= peer", "met": ro <= rp})
    ours = best.get((OURS, "remote_chunks"))
    if ours:
        # One read call per chunk, each waiting for the previous: no overlap is possible, so every request
        # the reads need costs one full delay: the array's metadata, each shard's index once, one per chunk.
        floor_requests = 1 + len(shards) + len(coords)
        floor = floor_requests * a.delay_ms / 1000
        emit({"ratio": f"{OURS} vs the latency floor", "task": "remote_chunks", "floor_seconds": round(floor, 3),
              "floor_requests": floor_requests, "floor": f"(1 metadata + {len(shards)} shard indexes + {len(coords)} chunks) x {a.delay_ms:g} ms, sequential",
              "times_the_floor": round(ours["seconds"] / floor, 3), "target": "<= 1.1", "met": ours["seconds"] / floor <= 1.1})
        measured, n = min(floors)
        emit({"ratio": f"{OURS} vs the same requests from a bare client", "task": "remote_chunks",
              "bare_client_seconds": round(measured, 3), "bare_client_requests": n,
              "times_the_bare_client": round(ours["seconds"] / measured, 3),
              "note": "http.client, one keep-alive connection, nothing decoded: the floor plus this server's own overhead"})


# MARK: writes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    def __init__(self):
        self.port = free_port()
        exe = os.path.join(os.path.dirname(PY), "moto_server")
        self.proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start")

    def reset(self, client, bucket):
        urllib.request.urlopen(urllib.request.Request(self.endpoint + "/moto-api/reset", method="POST", data=b"")).read()
        client.create_bucket(Bucket=bucket)

    def cpu_seconds(self):
        """CPU time the server process has used so far (user + system)."""
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def timed(cmd, env=None):
    """Seconds and peak RSS (GNU time) of a command, or {"error": ...}."""
    with open(os.devnull, "w") as null:
        tfile = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"remote_bench_time.{os.getpid()}")
        p = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", tfile] + cmd, stdout=null, stderr=subprocess.PIPE,
                           text=True, env=env)
        if p.returncode != 0:
            return {"error": f"exit {p.returncode}: {' '.join(cmd)}: {p.stderr.strip()[-800:]}"}
        seconds, kb, user, system = open(tfile).read().split()[-4:]
        os.remove(tfile)
        return {"seconds": float(seconds), "peak_rss_mb": int(kb) // 1024, "cpu_seconds": float(user) + float(system)}


def directory_files(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            path = os.path.join(d, f)
            out[os.path.relpath(path, root)] = path
    return out


def upload(client, root, bucket, prefix, workers, multipart=False):
    """Every file under root as an object under prefix, `workers` files at a time: one PUT each, or
    (multipart) boto3's upload_file with multipart settings (above 16 MiB, 8 MiB parts): what parts cost the server."""
    from boto3.s3.transfer import TransferConfig
    config = TransferConfig(multipart_threshold=16 << 20, multipart_chunksize=8 << 20, use_threads=False)
    files = directory_files(root)

    def put(item):
        key, path = item
        if multipart:
            client.upload_file(path, bucket, f"{prefix}/{key}", Config=config)
            return
        with open(path, "rb") as f:
            client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=f.read())

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, files.items()))
    return len(files)


def compare(client, bucket, prefix, root, workers):
    """Every object under prefix against every file under root: missing, extra, different."""
    files = directory_files(root)
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        keys += [o["Key"][len(prefix) + 1:] for o in page.get("Contents", [])]

    def differs(key):
        body = client.get_object(Bucket=bucket, Key=f"{prefix}/{key}")["Body"].read()
        with open(files[key], "rb") as f:
            return body != f.read()

    common = sorted(set(keys) & set(files))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        different = [k for k, d in zip(common, pool.map(differs, common)) if d]
    return {"objects": len(keys), "files": len(files), "missing": sorted(set(files) - set(keys))[:20],
            "extra": sorted(set(keys) - set(files))[:20], "different": different[:20],
            "identical": not different and set(keys) == set(files)}


def writes(a):
    import boto3
    from botocore.config import Config

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    moto = Moto()
    env.update(AWS_ENDPOINT_URL=moto.endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION="us-east-1", AWS_REQUEST_CHECKSUM_CALCULATION="when_required",
               # no profile files (absent paths): only the settings above
               AWS_CONFIG_FILE=os.path.join(a.work, "no-aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=os.path.join(a.work, "no-aws-credentials"))
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    bucket = "bench"
    client = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing",
                          config=Config(max_pool_connections=a.io_concurrency, s3={"addressing_style": "path"}))
    ome2zarr = os.path.join(a.bin, "ome2zarr")
    local = os.path.join(a.work, "local.ome.zarr")
    conc = str(a.io_concurrency)
    CD, CS, UP, UPM = "convert_to_directory", "convert_to_s3", "upload_directory_to_s3", "upload_directory_to_s3_multipart"
    runs = {(OURS, CD): [], (OURS, CS): [], ("boto3", UP): [], ("boto3", UPM): [], (OURS, UP): []}
    checks = []
    log(f"remote writes: moto at {moto.endpoint}")
    try:
        for rep in range(a.repeats):
            log(f"benchmark: remote writes, repeat {rep + 1}, convert to a directory")
            shutil.rmtree(local, ignore_errors=True)
            subprocess.run(["sync"])
            runs[(OURS, CD)].append(timed([ome2zarr, "convert", a.tiff, local, "--quiet"], env))
            log(f"benchmark: remote writes, repeat {rep + 1}, convert to s3://{bucket}/out.ome.zarr")
            moto.reset(client, bucket)
            cpu0 = moto.cpu_seconds()
            r = timed([ome2zarr, "convert", a.tiff, f"s3://{bucket}/out.ome.zarr", "--quiet", "--io-concurrency", conc], env)
            r["server_cpu_seconds"] = moto.cpu_seconds() - cpu0
            runs[(OURS, CS)].append(r)
            if "error" not in r and os.path.isdir(local):
                checks.append(compare(client, bucket, "out.ome.zarr", local, a.io_concurrency))
            log(f"benchmark: remote writes, repeat {rep + 1}, boto3 upload of the directory")
            for task, multipart in ((UP, False), (UPM, True)):
                moto.reset(client, bucket)
                cpu0, own0, t0 = moto.cpu_seconds(), time.process_time(), time.perf_counter()
                n = upload(client, local, bucket, "upload.ome.zarr", a.io_concurrency, multipart)
                runs[("boto3", task)].append({"seconds": time.perf_counter() - t0, "objects": n,
                                              "cpu_seconds": time.process_time() - own0,
                                              "server_cpu_seconds": moto.cpu_seconds() - cpu0})
            log(f"benchmark: remote writes, repeat {rep + 1}, zarr-bench upload of the directory")
            moto.reset(client, bucket)
            cpu0 = moto.cpu_seconds()
            zb = os.path.join(a.bin, "zarr-bench")
            r = run_json(["/usr/bin/time", "-f", "TIME %U %S", zb, "upload", local, f"s3://{bucket}/upload.ome.zarr",
                          "--io-concurrency", conc], env, stderr_time=True)
            r["server_cpu_seconds"] = moto.cpu_seconds() - cpu0
            runs[(OURS, UP)].append(r)
    finally:
        moto.stop()
    stored = sum(os.path.getsize(p) for p in directory_files(local).values()) if os.path.isdir(local) else 0
    best = {}
    for (impl, task), rs in runs.items():
        b = best_of(rs)
        if "error" in b:
            emit({"impl": impl, "task": task, "error": b["error"]})
            continue
        best[(impl, task)] = b
        line = {"impl": impl, "task": task, "seconds": round(b["seconds"], 3), "stored_mb": round(stored / 1e6, 1),
                "mb_per_s_stored": round(stored / b["seconds"] / 1e6, 1), "io_concurrency": a.io_concurrency}
        for k in ("peak_rss_mb", "objects", "requests"):
            if k in b:
                line[k] = round(b[k], 1) if isinstance(b[k], float) else b[k]
        for k in ("cpu_seconds", "server_cpu_seconds"):
            if k in b:
                line[k] = round(b[k], 2)
        emit(line)
    for c in checks[:1] + [c for c in checks[1:] if not c["identical"]]:
        emit(dict({"check": "s3://bench/out.ome.zarr equals the directory conversion, object for object"}, **c))
    if all(k in best for k in ((OURS, CD), (OURS, CS), ("boto3", UP))):
        floor = max(best[(OURS, CD)]["seconds"], best[("boto3", UP)]["seconds"])
        ratio = best[(OURS, CS)]["seconds"] / floor
        emit({"ratio": f"{OURS} convert to S3 vs max(convert to a directory, boto3 upload of it)",
              "times_the_floor": round(ratio, 3), "floor_seconds": round(floor, 3), "target": "<= 1.3", "met": ratio <= 1.3})
        # The server runs on the same cores: the CPU both need, spread over all cores, is a floor too.
        d, s3 = best[(OURS, CD)], best[(OURS, CS)]
        if "cpu_seconds" in d and "server_cpu_seconds" in s3:
            cores = os.cpu_count() or 1
            cpu_floor = (d["cpu_seconds"] + s3["server_cpu_seconds"]) / cores
            emit({"ratio": f"{OURS} convert to S3 vs the CPU floor on this machine", "cores": cores,
                  "floor_seconds": round(cpu_floor, 3), "times_the_floor": round(s3["seconds"] / cpu_floor, 3),
                  "floor": "(CPU of the directory conversion + moto's CPU during the S3 conversion) / cores"})
    if (OURS, UP) in best and ("boto3", UP) in best:
        emit({"ratio": f"{OURS} vs boto3", "task": UP, "speedup": round(best[("boto3", UP)]["seconds"] / best[(OURS, UP)]["seconds"], 2),
              "note": "the same objects, the same concurrency: the S3 client alone (ours: single PUTs up to 64 MiB)"})
    shutil.rmtree(local, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("reads")
    r.add_argument("--bin", required=True)
    r.add_argument("--array", required=True)
    r.add_argument("--coords", required=True)
    r.add_argument("--region", default="0:256,256:768,256:768", help="a 256 x 512 x 512 region across all 8 shards")
    r.add_argument("--aligned-region", default="0:256,0:512,0:512", help="a 256 x 512 x 512 region of 2 whole shards")
    r.add_argument("--delay-ms", type=float, default=20)
    r.add_argument("--io-concurrency", type=int, default=32)
    r.add_argument("--repeats", type=int, default=3)
    w = sub.add_parser("writes")
    w.add_argument("--bin", required=True)
    w.add_argument("--tiff", required=True)
    w.add_argument("--work", required=True)
    w.add_argument("--io-concurrency", type=int, default=32)
    w.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    reads(a) if a.what == "reads" else writes(a)


if __name__ == "__main__":
    main()

"""Summarises Benchmarks/run's raw results as JSON lines: best of the repeats per implementation and task,
then the ratios of this package against each peer."""
import json
import sys

raw = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
expected = json.load(open(sys.argv[2]))["checksum"]
ours = "ome-zarr-swift"
best, errors, stored = {}, [], {}
for r in raw:
    if "stored_bytes" in r:
        stored[r["impl"]] = r["stored_bytes"]
        continue
    res = r["result"]
    if "error" in res:
        errors.append(r)
        continue
    key = (r["impl"], res["task"])
    if res["task"] != "random_chunks" and res["checksum"] != expected:
        errors.append({"impl": r["impl"], "task": res["task"], "error": "checksum differs from the volume"})
        continue
    cur = best.get(key)
    if cur is None or res["seconds"] < cur["seconds"]:
        peak = max(res["peak_rss_mb"], cur["peak_rss_mb"]) if cur else res["peak_rss_mb"]
        best[key] = dict(res, peak_rss_mb=peak)
    else:
        cur["peak_rss_mb"] = max(cur["peak_rss_mb"], res["peak_rss_mb"])
random_sums = {k: v["checksum"] for k, v in best.items() if k[1] == "random_chunks"}
for impl, task in sorted(best):
    b = best[(impl, task)]
    line = {"impl": impl, "task": task, "seconds": round(b["seconds"], 4),
            "mb_per_s": round(b["bytes"] / b["seconds"] / 1e6, 1), "peak_rss_mb": round(b["peak_rss_mb"], 1),
            "volume_mb": 512 * 1.048576}
    if task == "random_chunks":
        line["checksum_matches_ours"] = random_sums.get((impl, task)) == random_sums.get((ours, task))
    if task == "write_all" and impl in stored:
        line["stored_mb"] = round(stored[impl] / 1e6, 1)
    print(json.dumps(line))
for e in errors:
    print(json.dumps(e))
for task in ("write_all", "read_all", "random_chunks"):
    if (ours, task) not in best:
        continue
    for peer in ("tensorstore", "zarrs", "zarr-python"):
        if (peer, task) in best:
            print(json.dumps({"ratio": f"{ours} vs {peer}", "task": task,
                              "speedup": round(best[(peer, task)]["seconds"] / best[(ours, task)]["seconds"], 2)}))

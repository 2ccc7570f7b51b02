"""Summarises the export benchmark: best of the repeats per implementation and task, the ratio to
tifffile (target: 4x faster), peak memory (target: 400 MB, flat in depth) and the throughput of a 4x
deeper stack."""
import json
import sys

best, extra = {}, []
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    if "result" not in r:
        extra.append(r)
        continue
    res = r["result"]
    if "error" in res:
        extra.append(r)
        continue
    key = (r["impl"], res["task"])
    if key not in best or res["seconds"] < best[key]["seconds"]:
        best[key] = res
for (impl, task), b in sorted(best.items()):
    print(json.dumps({"impl": impl, "task": task, "seconds": b["seconds"], "peak_rss_mb": b.get("peak_rss_mb"),
                      "mb_per_s": round(b["bytes"] / b["seconds"] / 1e6, 1)}))
for e in extra:
    print(json.dumps(e))
ours, peer = best.get(("ome-zarr-swift", "export")), best.get(("tifffile", "export"))
if ours and peer:
    print(json.dumps({"ratio": "tifffile time / ours", "speedup": round(peer["seconds"] / ours["seconds"], 2), "target": ">= 4"}))
    print(json.dumps({"ratio": "our peak RSS", "peak_rss_mb": ours["peak_rss_mb"], "target": "<= 400"}))
fast, peer_fast = best.get(("ome-zarr-swift", "export_level1")), best.get(("tifffile", "export_level1"))
if fast and peer_fast:
    print(json.dumps({"ratio": "deflate level 1: tifffile time / ours", "speedup": round(peer_fast["seconds"] / fast["seconds"], 2)}))
deep = best.get(("ome-zarr-swift", "export_4x_planes"))
if ours and deep:
    print(json.dumps({"ratio": "4x deeper stack: throughput vs standard", "throughput_ratio":
                      round((deep["bytes"] / deep["seconds"]) / (ours["bytes"] / ours["seconds"]), 2), "target": ">= 0.9"}))
    print(json.dumps({"ratio": "4x deeper stack: peak RSS vs standard", "rss_ratio":
                      round(deep["peak_rss_mb"] / ours["peak_rss_mb"], 2), "target": "flat"}))

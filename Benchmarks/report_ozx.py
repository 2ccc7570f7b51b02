"""Summarises the ozx benchmark: best of the repeats per implementation and task, and the ratios
the issue sets (convert to .ozx vs to a directory, pack vs cp, reading a .ozx vs a directory, and
ngff-zarr writing .ozx)."""
import json
import sys

best, errors, sizes = {}, [], {}
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    if "stored_bytes" in r:
        sizes[r["impl"]] = r["stored_bytes"]
        continue
    res = r["result"]
    if "error" in res:
        errors.append(r)
        continue
    key = (r["impl"], res["task"])
    if key not in best or res["seconds"] < best[key]["seconds"]:
        best[key] = res
for (impl, task), b in sorted(best.items()):
    out = {"impl": impl, "task": task, "seconds": b["seconds"], "peak_rss_mb": b.get("peak_rss_mb")}
    if b.get("bytes"):
        out["mb_per_s"] = round(b["bytes"] / b["seconds"] / 1e6, 1)
    if "checksum" in b:
        out["checksum"] = b["checksum"]
    print(json.dumps(out))
for e in errors:
    print(json.dumps(e))
for name, size in sorted(sizes.items()):
    print(json.dumps({"file": name, "bytes": size}))


def ratio(label, a, b, field, target):
    if a in best and b in best:
        print(json.dumps({"ratio": label, field: round(best[a]["seconds"] / best[b]["seconds"], 2), "target": target}))


ours = "ome-zarr-swift"
ratio("convert to .ozx vs to a directory", (ours, "convert_ozx"), (ours, "convert_directory"), "time_ratio", "<= 1.1")
if (ours, "pack") in best and ("cp", "pack") in best:
    print(json.dumps({"ratio": "pack throughput vs cp -r", "throughput_ratio":
                      round(best[("cp", "pack")]["seconds"] / best[(ours, "pack")]["seconds"], 2), "target": ">= 0.8"}))
ratio("reading level 0 from the .ozx vs the directory", (ours + "/ozx", "read_all"), (ours + "/directory", "read_all"),
      "time_ratio", "<= 1.1")
a, b = best.get((ours + "/ozx", "read_all")), best.get((ours + "/directory", "read_all"))
if a and b:
    print(json.dumps({"check": "the same values from both", "identical": a.get("checksum") == b.get("checksum")}))
if ("ngff-zarr", "convert_ozx") in best and (ours, "convert_ozx") in best:
    print(json.dumps({"ratio": "ngff-zarr writing .ozx vs ours (same stack)", "speedup":
                      round(best[("ngff-zarr", "convert_ozx")]["seconds"] / best[(ours, "convert_ozx")]["seconds"], 2)}))

#!/usr/bin/env bash
# `ome2zarr serve` against nginx on the same files, with wrk (Benchmarks/run serve).
#   Benchmarks/serve_bench.sh OME2ZARR MAKE_SAMPLE_TIFF WORKDIR REPEATS
# Installs nginx and wrk (Debian) when missing. Prints JSON lines: per server and task the best
# requests/s and MB/s of the repeats, then the ratios to nginx.
set -euo pipefail
bin="$1"; sample="$2"; dir="$3"; repeats="$4"
for pkg in nginx wrk; do
  command -v "$pkg" >/dev/null || { SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo; $SUDO apt-get install -y -qq "$pkg" >/dev/null; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
served="$dir/served"
# nginx workers run as another user when started by root: the tree must be readable to them.
chmod 755 "$dir"
rm -rf "$served"; mkdir -p "$served"
"$sample" "$dir/serve.ome.tif" --planes 256 --size 1024x1024 --compression none >&2
"$bin" convert "$dir/serve.ome.tif" "$served/image.ome.zarr" --quiet
rm -f "$dir/serve.ome.tif"
# The converter wrote around the page cache: read the files once, so both servers start warm.
find "$served" -type f -exec cat {} + > /dev/null
shard="image.ome.zarr/0/c/0/0/0"
size=$(stat -c %s "$served/$shard")
# The shards of level 0, for the range script (random shard, random 64 KiB range in it).
shards=$(cd "$served" && find image.ome.zarr/0/c -type f -size +100k | sort | head -64)
{
  echo "local paths = {"
  for s in $shards; do echo "  {'/PREFIX/$s', $(stat -c %s "$served/$s")},"; done
  echo "}"
  cat <<'LUA'
math.randomseed(2026)
request = function()
  local p = paths[math.random(#paths)]
  local start = math.random(0, p[2] - 65537)
  return wrk.format("GET", p[1], {["Range"] = "bytes=" .. start .. "-" .. (start + 65535)})
end
LUA
} > "$dir/ranges.lua.in"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
cat > "$dir/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;

  keepalive_requests 1000000;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$nginx_port;
    root $served;
    location / { add_header Access-Control-Allow-Origin * always; add_header Access-Control-Expose-Headers "Content-Range, Content-Length, ETag" always; }
  }
}
CONF
"$nginx_bin" -c "$dir/nginx.conf" -p "$dir" &
nginx_pid=$!
ours_port=$(free_port)
"$bin" serve "$served" --port "$ours_port" --token none > /dev/null &
ours_pid=$!
trap 'kill $nginx_pid $ours_pid 2>/dev/null || true' EXIT
sleep 1
raw="$dir/serve.jsonl"; : > "$raw"
measure() {  # server port task connections script-or-path
  local server=$1 port=$2 task=$3 conns=$4 target=$5 out
  if [ "$task" = ranges_64k ]; then
    sed "s|/PREFIX/|/|" "$dir/ranges.lua.in" > "$dir/ranges.lua"
    out=$(wrk -t2 -c"$conns" -d10s -s "$dir/ranges.lua" "http://127.0.0.1:$port/")
  else
    out=$(wrk -t2 -c"$conns" -d10s "http://127.0.0.1:$port/$target")
  fi
  local rps bytes errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  bytes=$(awk '/requests in/ {print $5}' <<<"$out")
  errors=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr '\n' ' ' || true)
  python3 - "$server" "$task" "$rps" "$bytes" "$errors" >> "$raw" <<'PY'
import json, sys
server, task, rps, amount, errors = sys.argv[1:6]
units = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
n = next((float(amount[:-len(u)]) * f for u, f in sorted(units.items(), key=lambda x: -len(x[0])) if amount.endswith(u)), 0.0)
print(json.dumps({"impl": server, "task": task, "requests_per_s": float(rps or 0), "mb_per_s": round(n / 10 / 1e6, 1),
                  "errors": errors.strip()}))
PY
}
for rep in $(seq "$repeats"); do
  echo "benchmark: serve, repeat $rep" >&2
  for server in nginx ome-zarr-swift; do
    port=$nginx_port; [ "$server" = ome-zarr-swift ] && port=$ours_port
    measure "$server" "$port" ranges_64k 64 ""
    measure "$server" "$port" whole_shards 8 "$shard"
  done
done
peak=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$ours_pid/status 2>/dev/null || echo 0)
python3 - "$raw" "$peak" "$size" <<'PY'
import json, sys
best = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    k = (r["impl"], r["task"])
    if k not in best or r["requests_per_s"] > best[k]["requests_per_s"]:
        best[k] = r
for r in sorted(best.values(), key=lambda r: (r["task"], r["impl"])):
    print(json.dumps(r))
print(json.dumps({"impl": "ome-zarr-swift", "peak_rss_mb": int(sys.argv[2]), "shard_bytes": int(sys.argv[3])}))
for task, field, target in (("ranges_64k", "requests_per_s", ">= 0.7"), ("whole_shards", "mb_per_s", ">= 0.8")):
    a, b = best.get(("ome-zarr-swift", task)), best.get(("nginx", task))
    if a and b and b[field]:
        print(json.dumps({"ratio": f"ome-zarr-swift vs nginx, {task} ({field})", "ratio_to_nginx": round(a[field] / b[field], 2), "target": target}))
PY

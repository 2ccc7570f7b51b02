"""The peers' side of the sharding and remote benchmarks (Benchmarks/run drives it).

  peers_bench.py IMPL write RAW DIR | read DIR | random DIR COORDS
  peers_bench.py IMPL remote-region URL z0:z1,y0:y1,x0:x1 [IO_CONCURRENCY]
  peers_bench.py IMPL remote-chunks URL COORDS [IO_CONCURRENCY]
IMPL: zarr-python | zarrs | tensorstore. Prints one JSON object like zarr-bench.
Remote reads go over HTTP: TensorStore's `http` kvstore (`http_request_concurrency` = IO_CONCURRENCY),
zarr-python's ObjectStore over obstore's HTTPStore (`async.concurrency` = IO_CONCURRENCY); default 32.
"""
import json
import sys
import time

import numpy as np

SHAPE, SHARD, CHUNK = (256, 1024, 1024), (128, 512, 512), (64, 64, 64)


def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return -1


def checksum(a):
    return int(a.sum(dtype=np.uint64))


def zarr_module(impl):
    import zarr
    if impl == "zarrs":
        import zarrs  # noqa: F401 - registers the pipeline
        zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"})
    return zarr


def ts_spec(path, create=False):
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": path}}
    if create:
        spec["metadata"] = {
            "shape": list(SHAPE), "data_type": "uint16",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(SHARD)}},
            "dimension_names": ["z", "y", "x"],
            "codecs": [{"name": "sharding_indexed", "configuration": {
                "chunk_shape": list(CHUNK),
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                           {"name": "zstd", "configuration": {"level": 1}}],
                "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                "index_location": "end"}}]}
    return spec


def remote(impl, task):
    """Opens the array at a URL and reads a region or chunk after chunk, one read call each."""
    url = sys.argv[3]
    concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 32
    out = {"task": task.replace("-", "_"), "io_concurrency": concurrency}
    if impl == "tensorstore":
        import tensorstore as ts
    else:
        import zarr
        from obstore.store import HTTPStore
        from zarr.storage import ObjectStore
        zarr.config.set({"async.concurrency": concurrency})
        zarr_module(impl)
    t0 = time.perf_counter()  # imports aside, opening the array is timed
    if impl == "tensorstore":
        spec = {"driver": "zarr3", "kvstore": {"driver": "http", "base_url": url}}
        arr = ts.open(spec, read=True, context=ts.Context({"http_request_concurrency": {"limit": concurrency}})).result()
        read = lambda sl: arr[sl].read().result()  # noqa: E731
    else:
        store = ObjectStore(HTTPStore.from_url(url, client_options={"allow_http": True}), read_only=True)
        arr = zarr_module(impl).open_array(store, mode="r")
        read = lambda sl: arr[sl]  # noqa: E731
    if task == "remote-region":
        sl = tuple(slice(*(int(v) for v in part.split(":"))) for part in sys.argv[4].split(","))
        data = read(sl)
        out["seconds"] = time.perf_counter() - t0
        out["bytes"] = data.nbytes
        out["checksum"] = checksum(data)
    else:
        coords = [tuple(int(v) for v in line.split()) for line in open(sys.argv[4]) if line.strip()]
        read_chunks(read, coords, t0, out)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


def read_chunks(read, coords, t0, out):
    """Reads each 64^3 chunk at `coords` with one `read` call; records time, bytes, checksum and count in `out`."""
    total, nbytes = 0, 0
    for z, y, x in coords:
        block = read((slice(z * 64, z * 64 + 64), slice(y * 64, y * 64 + 64), slice(x * 64, x * 64 + 64)))
        total += checksum(block)
        nbytes += block.nbytes
    out["seconds"] = time.perf_counter() - t0
    out["bytes"] = nbytes
    out["checksum"] = total
    out["reads"] = len(coords)


def main():
    impl, task = sys.argv[1], sys.argv[2]
    if task.startswith("remote-"):
        return remote(impl, task)
    out = {"task": {"write": "write_all", "read": "read_all", "random": "random_chunks"}[task]}
    if impl == "tensorstore":
        import tensorstore as ts
    if task == "write":
        vol = np.fromfile(sys.argv[3], dtype="<u2").reshape(SHAPE)
        path = sys.argv[4]
        t0 = time.perf_counter()
        if impl == "tensorstore":
            t = ts.open(ts_spec(path, create=True), create=True, delete_existing=True).result()
            t.write(vol).result()
        else:
            zarr = zarr_module(impl)
            from zarr.codecs import ZstdCodec
            a = zarr.create_array(path, shape=SHAPE, dtype="uint16", chunks=CHUNK, shards=SHARD,
                                  compressors=ZstdCodec(level=1), dimension_names=["z", "y", "x"], overwrite=True)
            a[...] = vol
        out["seconds"] = time.perf_counter() - t0
        out["bytes"] = vol.nbytes
        out["checksum"] = checksum(vol)
    elif task == "read":
        path = sys.argv[3]
        t0 = time.perf_counter()
        if impl == "tensorstore":
            data = ts.open(ts_spec(path)).result().read().result()
        else:
            data = zarr_module(impl).open_array(path, mode="r")[...]
        out["seconds"] = time.perf_counter() - t0
        out["bytes"] = data.nbytes
        out["checksum"] = checksum(data)
    else:
        path = sys.argv[3]
        coords = [tuple(int(v) for v in line.split()) for line in open(sys.argv[4]) if line.strip()]
        t0 = time.perf_counter()
        if impl == "tensorstore":
            arr = ts.open(ts_spec(path)).result()
            read = lambda sl: arr[sl].read().result()  # noqa: E731
        else:
            arr = zarr_module(impl).open_array(path, mode="r")
            read = lambda sl: arr[sl]  # noqa: E731
        read_chunks(read, coords, t0, out)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Interop peer driver: zarr-python and TensorStore read what ZarrIO wrote, and write what ZarrIO reads.

Usage:
  peers.py read  DIR   read every case of DIR/manifest.json (written by ZarrIO) with each peer,
                       compare with DIR/<case>.bin, print a JSON report {case: {peer: "ok" | error}}
  peers.py write DIR   write the peer fixture matrix into DIR with DIR/manifest.json and <case>.bin

A .bin file holds the expected elements in C order, little-endian.
"""
import json
import os
import sys
import traceback
import warnings

import numcodecs
import numpy as np
import tensorstore as ts
import zarr
import zarr.storage
from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec, TransposeCodec, ZstdCodec

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"]


def as_le_bytes(arr):
    arr = np.ascontiguousarray(arr)
    return arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")


def expected(case, d):
    raw = open(os.path.join(d, case["name"] + ".bin"), "rb").read()
    dt = np.dtype(case["dtype"]).newbyteorder("<")
    return np.frombuffer(raw, dtype=dt).reshape(case["shape"])


def same(a, b):
    a = np.asarray(a)
    return a.shape == b.shape and as_le_bytes(a) == as_le_bytes(b)


def read_zarr(path, fmt):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        arr = zarr.open_array(path, mode="r", zarr_format=fmt)
        data = arr[...]
    msgs = [str(w.message) for w in caught]
    return data, msgs


def read_ts(path, fmt):
    driver = "zarr3" if fmt == 3 else "zarr"
    t = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": path}}, open=True).result()
    return t.read().result()


def cmd_read(d):
    manifest = json.load(open(os.path.join(d, "manifest.json")))
    report = {}
    for case in manifest:
        want = expected(case, d)
        path = os.path.join(d, case["path"])
        fmt = case.get("zarr_format", 3)
        result = {}
        try:
            got, msgs = read_zarr(path, fmt)
            if msgs and not case.get("allow_warnings", False):
                result["zarr"] = "warnings: " + "; ".join(msgs)
            else:
                result["zarr"] = "ok" if same(got, want) else "values differ"
        except Exception as e:  # noqa: BLE001 - every failure is reported
            result["zarr"] = f"{type(e).__name__}: {e}"
        if case.get("tensorstore", True):
            try:
                got = read_ts(path, fmt)
                result["tensorstore"] = "ok" if same(got, want) else "values differ"
            except Exception as e:  # noqa: BLE001
                result["tensorstore"] = f"{type(e).__name__}: {e}"
        report[case["name"]] = result
    json.dump(report, sys.stdout, indent=1)


# ---------------------------------------------------------------- fixtures written by the peers

def sample(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    dt = np.dtype(dtype)
    if dt.kind == "b":
        v = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
    elif dt.kind == "f":
        v = (rng.standard_normal(n) * 1000).astype(dt)
        if n > 3:
            v[:3] = [np.nan, np.inf, -np.inf]
    else:
        v = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt)
        if n > 1:
            v[0] = complex(np.nan, np.inf)
    return v.reshape(shape)


class Fixtures:
    def __init__(self, d):
        self.d = d
        self.cases = []

    def add(self, name, data, writer, zarr_format=3):
        np_le = np.asarray(data)
        with open(os.path.join(self.d, name + ".bin"), "wb") as f:
            f.write(as_le_bytes(np_le))
        self.cases.append({"name": name, "path": name + ".zarr", "dtype": np_le.dtype.newbyteorder("<").str,
                           "data_type": str(np_le.dtype.name), "shape": list(np_le.shape), "writer": writer,
                           "zarr_format": zarr_format})
        return os.path.join(self.d, name + ".zarr")

    def zarr3(self, name, data, chunks, **kw):
        path = self.add(name, data, "zarr-python")
        a = zarr.create_array(path, shape=data.shape, dtype=data.dtype, chunks=chunks, zarr_format=3, **kw)
        a[...] = data
        return a

    def zarr2(self, name, data, chunks, **kw):
        path = self.add(name, data, "zarr-python", zarr_format=2)
        a = zarr.create_array(path, shape=data.shape, dtype=data.dtype, chunks=chunks, zarr_format=2, **kw)
        a[...] = data
        return a

    def ts3(self, name, data, chunks, codecs, fill_value=None):
        path = self.add(name, data, "tensorstore")
        meta = {"shape": list(data.shape), "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
                "codecs": codecs, "data_type": np.dtype(data.dtype).name}
        if fill_value is not None:
            meta["fill_value"] = fill_value
        t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path}, "metadata": meta},
                    create=True).result()
        t[...] = data
        return t

    def ts2(self, name, data, chunks, compressor, order="C", dtype=None):
        path = self.add(name, data, "tensorstore", zarr_format=2)
        meta = {"shape": list(data.shape), "chunks": chunks, "dtype": dtype or np.dtype(data.dtype).str,
                "compressor": compressor, "order": order}
        t = ts.open({"driver": "zarr", "kvstore": {"driver": "file", "path": path}, "metadata": meta},
                    create=True).result()
        t[...] = data
        return t


def cmd_write(d):
    os.makedirs(d, exist_ok=True)
    f = Fixtures(d)
    shape, chunks = (19, 27), (8, 10)  # ragged edges in both dimensions
    for i, dt in enumerate(DTYPES):
        data = sample(dt, shape, i)
        f.zarr3(f"zp3_{dt}_default", data, chunks)  # bytes + zstd(level 0), zarr-python's default
        f.zarr3(f"zp3_{dt}_gzip", data, chunks, compressors=[GzipCodec(level=5)])
        f.zarr3(f"zp3_{dt}_big", data, chunks, serializer=BytesCodec(endian="big"), compressors=[Crc32cCodec()])
        f.ts3(f"ts3_{dt}_zstd", data, list(chunks),
              [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 3}}])
        f.ts3(f"ts3_{dt}_big_gzip", data, list(chunks),
              [{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "gzip", "configuration": {"level": 4}}])
        f.zarr2(f"zp2_{dt}_zlib", data, chunks, compressors=[numcodecs.Zlib(level=3)])
    # Codec coverage on a 3-D uint16 volume with ragged edges.
    vol = sample("uint16", (13, 17, 21), 100)
    for cname in ["lz4", "lz4hc", "blosclz", "zstd", "zlib"]:
        for shuffle in ["noshuffle", "shuffle", "bitshuffle"]:
            f.zarr3(f"zp3_blosc_{cname}_{shuffle}", vol, (5, 8, 8),
                    compressors=[BloscCodec(cname=cname, clevel=5, shuffle=shuffle, typesize=2)])
    f.zarr3("zp3_transpose", vol, (5, 8, 8), filters=[TransposeCodec(order=[2, 0, 1])])
    f.zarr3("zp3_transpose_blosc_crc", vol, (5, 8, 8), filters=[TransposeCodec(order=[1, 2, 0])],
            compressors=[BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle"), Crc32cCodec()])
    f.zarr3("zp3_zstd_checksum", vol, (5, 8, 8), compressors=[ZstdCodec(level=5, checksum=True)])
    f.zarr3("zp3_dot_separator", vol, (5, 8, 8), chunk_key_encoding={"name": "default", "separator": "."})
    f.zarr3("zp3_v2_keys", vol, (5, 8, 8), chunk_key_encoding={"name": "v2", "separator": "."})
    f.zarr3("zp3_dimension_names", vol, (5, 8, 8), dimension_names=["z", None, "x"])
    f.ts3("ts3_transpose_blosc_crc", vol, [5, 8, 8], [
        {"name": "transpose", "configuration": {"order": [2, 1, 0]}},
        {"name": "bytes", "configuration": {"endian": "little"}},
        {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 2}},
        {"name": "crc32c"}])
    # Sparse arrays: only part written, the rest is the fill value.
    sparse = np.full((40, 50), 7, dtype="int32")
    sparse[3:11, 20:33] = sample("int32", (8, 13), 5)
    a = f.zarr3("zp3_sparse_fill7", sparse, (8, 10), fill_value=7)
    sparse_ts = np.full((40, 50), -5, dtype="int64")
    sparse_ts[30:40, 45:50] = 1
    f.ts3("ts3_sparse_fill", sparse_ts, [8, 10], [{"name": "bytes", "configuration": {"endian": "little"}},
                                                  {"name": "zstd", "configuration": {"level": 1}}], fill_value=-5)
    nan_fill = np.full((30, 30), np.nan, dtype="float32")
    nan_fill[0:5, 0:5] = 1.5
    f.zarr3("zp3_nan_fill", nan_fill, (10, 10), fill_value=np.nan)
    big_fill = np.full((12, 12), np.iinfo("uint64").max, dtype="uint64")
    big_fill[0, 0] = 3
    f.zarr3("zp3_uint64_max_fill", big_fill, (5, 5), fill_value=np.iinfo("uint64").max)
    f.zarr3("zp3_zero_d", np.array(3.25, dtype="float64"), ())
    # Zarr v2 with every compressor, order F, big-endian, null fill, "/" separator.

    for name, comp in [("blosc", numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)),
                       ("blosc_bitshuffle", numcodecs.Blosc(cname="zstd", clevel=3, shuffle=2)),
                       ("zlib", numcodecs.Zlib(level=4)), ("gzip", numcodecs.GZip(level=6)),
                       ("zstd", numcodecs.Zstd(level=2)), ("none", None)]:
        f.zarr2(f"zp2_{name}", vol, (5, 8, 8), compressors=[comp] if comp else None)
    f.zarr2("zp2_order_F", vol, (5, 8, 8), order="F")
    f.zarr2("zp2_big_endian", vol.astype(">u2"), (5, 8, 8))
    f.zarr2("zp2_slash", vol, (5, 8, 8), chunk_key_encoding={"name": "v2", "separator": "/"})
    f.zarr2("zp2_float_nan_fill", nan_fill, (10, 10), fill_value=np.nan)
    f.ts2("ts2_blosc_F", vol, [5, 8, 8], {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 2}, order="F")
    f.ts2("ts2_zlib_big", vol.astype(">u2"), [5, 8, 8], {"id": "zlib", "level": 5}, dtype=">u2")
    f.ts2("ts2_raw_f8", sample("float64", (9, 11), 3), [4, 4], None)
    # Sharding: index at the end (with crc32c) and at the start (without), nested shards, ragged last
    # shards, partly empty shards, blosc and transpose inside shards; TensorStore's own layout.
    shard_vol = sample("int32", (13, 22, 14), 200)
    f.zarr3("zp3_shard_end_crc", shard_vol, (4, 5, 3), shards=(8, 10, 6))
    f.zarr3("zp3_shard_start_nocrc", shard_vol, (8, 10, 6), compressors=None, serializer=ShardingCodec(
        chunk_shape=(4, 5, 3), codecs=[BytesCodec(), ZstdCodec(level=2)], index_codecs=[BytesCodec()], index_location="start"))
    f.zarr3("zp3_shard_nested", shard_vol, (8, 10, 6), compressors=None, serializer=ShardingCodec(
        chunk_shape=(4, 10, 6), codecs=[ShardingCodec(chunk_shape=(2, 5, 3), codecs=[BytesCodec(), ZstdCodec()])]))
    f.zarr3("zp3_shard_blosc_transpose", shard_vol, (8, 10, 6), compressors=None, serializer=ShardingCodec(
        chunk_shape=(4, 5, 3), codecs=[TransposeCodec(order=[2, 0, 1]), BytesCodec(endian="big"),
                                       BloscCodec(cname="lz4", shuffle="bitshuffle", typesize=4)]))
    partly = np.full((40, 50), 9, dtype="uint16")
    partly[5:9, 12:30] = 1000
    f.zarr3("zp3_shard_partly_empty", partly, (4, 5), shards=(16, 20), fill_value=9)
    ts_shard = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [4, 5, 3], "index_location": "end",
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 1}}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}}]
    t = f.ts3("ts3_shard", shard_vol, [8, 10, 6], ts_shard)
    # Overwrite parts afterwards, so shards are rewritten in TensorStore's own order.
    shard_vol2 = shard_vol.copy()
    shard_vol2[2:7, 3:9, 1:5] = -1
    f.cases[-1]["name"] = "ts3_shard_rewritten"
    t[2:7, 3:9, 1:5] = -1
    with open(os.path.join(d, "ts3_shard_rewritten.bin"), "wb") as out:
        out.write(as_le_bytes(shard_vol2))
    f.cases[-1]["path"] = "ts3_shard.zarr"
    ts_start = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [4, 5, 3], "index_location": "start",
        "codecs": [{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "gzip", "configuration": {"level": 1}}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}}]
    f.ts3("ts3_shard_start", shard_vol, [8, 10, 6], ts_start)
    ts_nested = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [4, 10, 6],
        "codecs": [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [2, 5, 3], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                                 {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3, "shuffle": "shuffle", "typesize": 4}}],
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}}]
    f.ts3("ts3_shard_nested", shard_vol, [8, 10, 6], ts_nested)
    sparse_shard = np.full((40, 50), 0, dtype="float32")
    sparse_shard[30:33, 1:4] = 2.5
    t = f.ts3("ts3_shard_sparse", np.zeros((40, 50), dtype="float32"), [16, 20], [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [4, 5], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}}])
    t[30:33, 1:4] = 2.5
    with open(os.path.join(d, "ts3_shard_sparse.bin"), "wb") as out:
        out.write(as_le_bytes(sparse_shard))
    # Consolidated metadata (v3 inline and v2 .zmetadata).
    for fmt in (3, 2):
        root = zarr.open_group(os.path.join(d, f"consolidated_v{fmt}.zarr"), mode="w", zarr_format=fmt)
        root.attrs["answer"] = 42
        g = root.create_group("sub")
        g.create_array("arr", shape=(4, 4), dtype="int16", chunks=(2, 2))
        root.create_array("top", shape=(3,), dtype="float32", chunks=(3,))
        zarr.consolidate_metadata(os.path.join(d, f"consolidated_v{fmt}.zarr"), zarr_format=fmt)
    json.dump(f.cases, open(os.path.join(d, "manifest.json"), "w"), indent=1)
    print(len(f.cases))


if __name__ == "__main__":
    {"read": cmd_read, "write": cmd_write}[sys.argv[1]](sys.argv[2])

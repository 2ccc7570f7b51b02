#!/usr/bin/env python3
"""Deterministic hostile-input corpus for ome2zarr.

Builds valid seeds (TIFF, OME-TIFF, ImageJ, folders of planes, sharded
OME-Zarr written by the binary under test, JSON fixtures) and derives N
mutated cases per family from them. Every case is a directory holding the
input under `in/` and a `case.json` describing it (family, kind, mutation,
rank, extra arguments). The same seed always gives the same corpus.

Usage: mutate.py --out DIR [--count N] [--seed S] [--families a,b] [--binary PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "OMEZarrTests" / "Fixtures"

LARGE_KINDS = 7
FAMILIES = ["shard", "zarrjson", "ome", "collection", "tiff", "omexml", "imagej", "folder", "args", "large"]

# ---------------------------------------------------------------- helpers

EXTREME_INTS = [0, -1, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63)]
RAW_NUMBERS = ["1e308", "1e400", "-1e400", "-0.0", "0.5", "NaN", "Infinity", "-Infinity", "1e-400",
               "123456789012345678901234567890"]
SWAP_VALUES = ["x", "", "NaN", "inf", "-1", "0", None, True, False, {}, [], [[]], {"a": 1}, "../..", "/etc",
               "http://127.0.0.1:9/x", "\u0000", "é" * 3]


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as the sharding index codec stores it."""
    table = _CRC_TABLE
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _make_crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC_TABLE = _make_crc_table()


class Raw:
    """Collects raw JSON tokens to splice in after json.dumps."""

    def __init__(self):
        self.tokens: dict[str, str] = {}
        self.dups: dict[str, str] = {}

    def raw(self, text: str) -> str:
        key = f"@@RAW{len(self.tokens)}@@"
        self.tokens[key] = text
        return key

    def dup(self, name: str) -> str:
        key = f"@@DUP{len(self.dups)}@@"
        self.dups[key] = name
        return key

    def dumps(self, doc) -> str:
        text = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=True)
        for k, v in self.tokens.items():
            text = text.replace(json.dumps(k), v)
        for k, v in self.dups.items():
            text = text.replace(json.dumps(k), json.dumps(v))
        return text


# Values worth trying for well-known keys (besides the generic extremes and type swaps).
KEY_VALUES = {
    "data_type": ["uint64", "int64", "float64", "float16", "bool", "complex64", "r8", "r16", "string", "uint4",
                  "bfloat16", "int2", "", "UINT8"],
    "dtype": ["<u8", ">i8", "|b1", "<f2", "<c8", "|S10", "<M8[ns]", "|O", "<U4", "|V2", ">u2", "<u16", "u1", ""],
    "fill_value": ["NaN", "Infinity", "-Infinity", "0x7fc00000", "AAAA", [1, 2], 2**64, -1, 1.5, True],
    "separator": [".", "", "//", "\\", "a"],
    "dimension_separator": [".", "/", "", "x"],
    "order": ["F", "X", "", ["C"]],
    "index_location": ["start", "middle", ""],
    "typesize": [0, 3, 16, 2**31, -1],
    "clevel": [99, -1, 2**40],
    "level": [99, -100, 2**31],
    "shuffle": ["bitshuffle", "noshuffle", "bogus", 7],
    "cname": ["lz4", "blosclz", "zlib", "snappy", "bogus"],
    "endian": ["big", "middle", None],
    "name": ["transpose", "crc32c", "sharding_indexed", "bytes", "gzip", "zstd", "blosc", "v2", "rectilinear",
             "bogus", ""],
    "id": ["zlib", "gzip", "blosc", "zstd", "lz4", "bz2", "lzma", "bogus"],
    "node_type": ["array", "group", "bogus"],
    "zarr_format": [2, 3, 4, 1],
    "version": ["0.1", "0.3", "0.4", "0.5", "0.6", "0.9.dev3", "1.0", "", 0.5],
    "type": ["space", "time", "channel", "scale", "translation", "affine", "identity", "sequence", "bogus"],
    "unit": ["furlong", "", "parsec", "micrometer", "µm"],
    "path": ["", "..", "/", "0/..", "does-not-exist", "a" * 300, "0"],
}


def all_paths(node, prefix=()):
    """Every (path, value) below node, containers included."""
    yield prefix, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from all_paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from all_paths(v, prefix + (i,))


def get_at(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def set_at(doc, path, value):
    if not path:
        return value
    get_at(doc, path[:-1])[path[-1]] = value
    return doc


def mutate_json(doc, rng: random.Random, raw: Raw, focus=None):
    """One structural or value mutation of a JSON document; returns (doc, description)."""
    paths = [p for p, _ in all_paths(doc) if p]
    if focus:
        focused = [p for p in paths if any(f in [str(x) for x in p] for f in focus)]
        if focused:
            paths = focused
    if not paths:
        return doc, "no paths"
    path = rng.choice(paths)
    value = get_at(doc, path)
    parent = get_at(doc, path[:-1])
    ops = ["number", "number", "raw", "swap", "delete", "hugelist", "deep", "dupkey", "listop", "longstr"]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ops += ["number"] * 4 + ["raw"] * 2
    op = rng.choice(ops)
    where = "/" + "/".join(str(p) for p in path)
    key = path[-1] if isinstance(path[-1], str) else (path[-2] if len(path) > 1 and isinstance(path[-2], str) else None)
    if key in KEY_VALUES and rng.random() < 0.5:
        v = rng.choice(KEY_VALUES[key])
        set_at(doc, path, v)
        return doc, f"{where} = {json.dumps(v)[:60]}"
    if op == "number":
        v = rng.choice(EXTREME_INTS)
        set_at(doc, path, v)
        return doc, f"{where} = {v}"
    if op == "raw":
        v = rng.choice(RAW_NUMBERS)
        set_at(doc, path, raw.raw(v))
        return doc, f"{where} = {v} (raw)"
    if op == "swap":
        v = rng.choice(SWAP_VALUES)
        set_at(doc, path, v)
        return doc, f"{where} = {json.dumps(v)}"
    if op == "delete":
        if isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
        return doc, f"delete {where}"
    if op == "hugelist":
        n = rng.choice([1000, 100000])
        elem = value if not isinstance(value, list) else (value[0] if value else 0)
        set_at(doc, path, [elem] * n)
        return doc, f"{where} = [{json.dumps(elem)[:40]}] * {n}"
    if op == "deep":
        n = rng.choice([1000, 100000])
        set_at(doc, path, raw.raw("[" * n + "]" * n))
        return doc, f"{where} = nested {n} deep"
    if op == "dupkey" and isinstance(parent, dict):
        other = rng.choice(SWAP_VALUES + EXTREME_INTS)
        parent[raw.dup(str(path[-1]))] = other
        return doc, f"duplicate key {where} = {json.dumps(other)}"
    if op == "listop" and isinstance(value, list):
        kind = rng.choice(["empty", "dup", "drop", "reverse", "grow"])
        if kind == "empty":
            value.clear()
        elif kind == "dup" and value:
            value.append(json.loads(json.dumps(value[0])))
        elif kind == "drop" and value:
            value.pop()
        elif kind == "reverse":
            value.reverse()
        else:
            value.extend(json.loads(json.dumps(value)) * 3)
        return doc, f"{where}: list {kind}"
    v = rng.choice(["A" * 1_000_000, "../" * 50, "ф" * 1000, "a/b/../../../c", " "])
    set_at(doc, path, v)
    return doc, f"{where} = long/odd string ({len(v)})"


def semantic_ome(doc, rng: random.Random, raw: Raw):
    """OME-aware mutations: scales, axes, windows, colours, datasets, labels, plate/well."""
    ome = doc.get("attributes", {}).get("ome", doc.get("attributes", doc))
    if "ome" in doc and isinstance(doc["ome"], dict):
        ome = doc["ome"]
    ms = ome.get("multiscales") if isinstance(ome, dict) else None
    choices = []
    if ms:
        m = ms[0]
        axes = m.get("axes", [])
        ds = m.get("datasets", [])
        if len(axes) > 1:
            choices.append("dupaxis")
            choices.append("axistype")
        if ds:
            choices += ["scale", "scale", "translation", "dspath", "manyct", "dropct"]
        choices += ["manyds", "ms_ct"]
    if isinstance(ome, dict) and "omero" in ome:
        choices += ["window", "window", "color"]
    if isinstance(ome, dict) and "image-label" in ome:
        choices += ["labelcolor"]
    if isinstance(ome, dict) and ("plate" in ome or "well" in ome):
        choices += ["plate"]
    if isinstance(ome, dict) and "labels" in ome:
        choices += ["labels"]
    if isinstance(ome, dict) and "bioformats2raw.layout" in ome:
        choices += ["b2r"]
    if not choices:
        return mutate_json(doc, rng, raw, focus=["ome", "multiscales", "axes", "omero", "plate", "well"])
    op = rng.choice(choices)
    bad = lambda: raw.raw(rng.choice(["NaN", "Infinity", "-1", "0", "1e308", "1e400", "-0.0"]))
    if op == "dupaxis":
        i = rng.randrange(1, len(axes))
        axes[i]["name"] = axes[0]["name"]
        return doc, f"axes[{i}].name = axes[0].name ({axes[0]['name']})"
    if op == "axistype":
        i = rng.randrange(len(axes))
        axes[i]["type"] = rng.choice(["channel", "time", "space", "bogus", 3])
        axes[i]["unit"] = rng.choice(["furlong", "", 7, "micrometer"])
        return doc, f"axes[{i}] type/unit changed"
    if op in ("scale", "translation"):
        d = rng.choice(ds)
        for t in d.get("coordinateTransformations", []):
            if t.get("type") == op and isinstance(t.get(op), list) and t[op]:
                j = rng.randrange(len(t[op]))
                t[op][j] = b = bad()
                return doc, f"datasets {op}[{j}] = {raw.tokens[b]}"
        d["coordinateTransformations"] = [{"type": "scale", "scale": [bad() for _ in axes]}]
        return doc, "datasets scale all bad"
    if op == "dspath":
        d = rng.choice(ds)
        d["path"] = rng.choice(["..", "/", "", "0/../../..", "nonexistent", ds[0]["path"], "a" * 5000])
        return doc, f"dataset path = {d['path'][:30]!r}"
    if op == "manyct":
        d = rng.choice(ds)
        n = rng.choice([1000, 100000])
        d["coordinateTransformations"] = (d.get("coordinateTransformations") or []) + \
            [{"type": "translation", "translation": [0] * len(axes)}] * n
        return doc, f"{n} coordinateTransformations"
    if op == "dropct":
        d = rng.choice(ds)
        d.pop("coordinateTransformations", None)
        return doc, "dataset without coordinateTransformations"
    if op == "manyds":
        n = rng.choice([1000, 50000])
        m["datasets"] = (ds * (n // max(1, len(ds)) + 1))[:n]
        return doc, f"{n} datasets"
    if op == "ms_ct":
        m["coordinateTransformations"] = [{"type": "scale", "scale": [bad() for _ in axes]}]
        return doc, "multiscale-level scale bad"
    if op == "window":
        ch = rng.choice(ome["omero"].get("channels") or [{}])
        w = ch.setdefault("window", {})
        k = rng.choice(["start", "end", "min", "max"])
        w[k] = b = bad()
        if rng.random() < 0.3:
            w["start"], w["end"] = 10, 1
        return doc, f"omero window {k} = {raw.tokens[b]}"
    if op == "color":
        ch = rng.choice(ome["omero"].get("channels") or [{}])
        ch["color"] = rng.choice(["GGGGGG", "#FFF", "", 12345, None, "FFFFFFFFFFFF", "ff00ff", "-1"])
        return doc, f"omero color = {ch['color']!r}"
    if op == "labelcolor":
        il = ome["image-label"]
        il["colors"] = rng.choice([
            [{"label-value": 1, "rgba": [300, -1, 0, 255]}],
            [{"label-value": raw.raw("NaN"), "rgba": [0, 0, 0, 0]}],
            [{"label-value": 1, "rgba": [0, 0]}, {"label-value": 1, "rgba": [1, 1, 1, 1]}],
            [{"label-value": 2**64, "rgba": "red"}]])
        return doc, "image-label colors bad"
    if op == "plate":
        return mutate_json(doc, rng, raw, focus=["plate", "well", "rows", "columns", "wells", "images",
                                                 "acquisitions", "field_count", "rowIndex", "columnIndex"])
    if op == "labels":
        ome["labels"] = rng.choice([["../.."], ["cells", "cells"], [""], ["/abs"], ["x"] * 10000, "cells"])
        return doc, f"labels = {str(ome['labels'])[:40]}"
    ome["bioformats2raw.layout"] = rng.choice([4, 2**64, "3", None, -1])
    return doc, f"bioformats2raw.layout = {ome['bioformats2raw.layout']}"


# ---------------------------------------------------------------- TIFF structure

TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8}
TYPE_FMT = {1: "B", 3: "H", 4: "I", 16: "Q", 6: "b", 8: "h", 9: "i", 17: "q"}


class TiffMap:
    """The IFD entries of a TIFF, for in-place patching."""

    def __init__(self, data: bytes):
        self.data = bytearray(data)
        self.bo = "<" if data[:2] == b"II" else ">"
        version = struct.unpack(self.bo + "H", data[2:4])[0]
        self.big = version == 43
        self.ifds = []   # (ifd offset, count, next-pointer offset, [entries])
        off = struct.unpack(self.bo + ("Q" if self.big else "I"), data[8:16] if self.big else data[4:8])[0]
        self.first_ptr = 8 if self.big else 4
        try:
            self._walk(data, off)
        except struct.error:
            pass  # a truncated or already mutated file: keep the IFDs read so far
        if not self.ifds:
            self.ifds.append({"off": self.first_ptr, "n": 0, "next": self.first_ptr, "entries": []})

    def _walk(self, data, off):
        seen = set()
        while off and off not in seen and off < len(data):
            seen.add(off)
            if self.big:
                n = struct.unpack_from(self.bo + "Q", data, off)[0]
                esize, hsize = 20, 8
            else:
                n = struct.unpack_from(self.bo + "H", data, off)[0]
                esize, hsize = 12, 2
            entries = []
            for i in range(n):
                e = off + hsize + i * esize
                tag, typ = struct.unpack_from(self.bo + "HH", data, e)
                cnt = struct.unpack_from(self.bo + ("Q" if self.big else "I"), data, e + 4)[0]
                entries.append({"pos": e, "tag": tag, "type": typ, "count": cnt})
            nxt = off + hsize + n * esize
            self.ifds.append({"off": off, "n": n, "next": nxt, "entries": entries})
            off = struct.unpack_from(self.bo + ("Q" if self.big else "I"), data, nxt)[0]

    def value_pos(self, e):
        """Where an entry's values start (inline or at its offset)."""
        vsize = TYPE_SIZES.get(e["type"], 1) * e["count"]
        field = e["pos"] + (12 if self.big else 8)
        inline = 8 if self.big else 4
        if vsize <= inline:
            return field
        return struct.unpack_from(self.bo + ("Q" if self.big else "I"), self.data, field)[0]

    def set_value(self, e, value, index=0):
        if e["type"] in (3, 4) and e["count"] == 1 and value >= (1 << (16 if e["type"] == 3 else 32)):
            # a single SHORT or LONG too small for the value: widen the entry's type (it stays inline)
            wide = 16 if self.big else 4
            if wide == 4 and value >= 1 << 32:
                wide = 4
            struct.pack_into(self.bo + "H", self.data, e["pos"] + 2, wide)
            field = e["pos"] + (12 if self.big else 8)
            self.data[field:field + (8 if self.big else 4)] = bytes(8 if self.big else 4)
            e["type"] = wide
        fmt = TYPE_FMT.get(e["type"])
        if not fmt:
            return False
        pos = self.value_pos(e) + index * TYPE_SIZES[e["type"]]
        if pos + struct.calcsize(fmt) > len(self.data):
            return False
        bits = struct.calcsize(fmt) * 8
        value = value % (1 << bits)
        if fmt.islower():
            value = value - (1 << bits) if value >= (1 << (bits - 1)) else value
        struct.pack_into(self.bo + fmt, self.data, pos, value)
        return True

    def set_word(self, pos, value, big=None):
        big = self.big if big is None else big
        fmt = "Q" if big else "I"
        struct.pack_into(self.bo + fmt, self.data, pos, value % (1 << (64 if big else 32)))

    def set_description(self, ifd, text: bytes):
        """Point tag 270 of an IFD at new text appended to the file."""
        for e in self.ifds[ifd]["entries"]:
            if e["tag"] == 270:
                text = text + b"\0"
                pos = len(self.data) + (len(self.data) & 1)
                self.data += b"\0" * (pos - len(self.data)) + text
                w = "Q" if self.big else "I"
                struct.pack_into(self.bo + w, self.data, e["pos"] + 4, len(text))
                struct.pack_into(self.bo + w, self.data, e["pos"] + (12 if self.big else 8), pos)
                e["count"] = len(text)
                return True
        return False

    def description(self, ifd=0) -> bytes | None:
        for e in self.ifds[ifd]["entries"]:
            if e["tag"] == 270:
                p = self.value_pos(e)
                return bytes(self.data[p:p + e["count"]]).rstrip(b"\0")
        return None


TIFF_TAGS = {256: "ImageWidth", 257: "ImageLength", 258: "BitsPerSample", 259: "Compression",
             262: "Photometric", 273: "StripOffsets", 277: "SamplesPerPixel", 278: "RowsPerStrip",
             279: "StripByteCounts", 284: "PlanarConfig", 317: "Predictor", 322: "TileWidth",
             323: "TileLength", 324: "TileOffsets", 325: "TileByteCounts", 339: "SampleFormat", 338: "ExtraSamples"}
TAG_VALUES = [0, 1, 2, 3, 7, 15, 16, 17, 64, 2**15, 2**16 - 1, 2**16, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1, 2**64 - 1]
COMPRESSIONS = [0, 2, 5, 6, 7, 8, 32773, 34712, 50000, 65535]


def mutate_tiff(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One header or IFD mutation; a file too broken to patch is truncated instead."""
    if len(data) >= 16:
        try:
            return _mutate_tiff(data, rng)
        except (struct.error, IndexError, ValueError):
            pass
    cut = rng.randrange(max(1, len(data)))
    return data[:cut], f"truncated to {cut} of {len(data)}"


def _mutate_tiff(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    t = TiffMap(data)
    ifd_i = rng.randrange(len(t.ifds))
    ifd = t.ifds[ifd_i]
    op = rng.choice(["tag", "tag", "tag", "tag", "count", "type", "next", "nentries", "flip", "header",
                     "truncate", "duptag"])
    if op == "tag":
        e = rng.choice([e for e in ifd["entries"] if e["tag"] in TIFF_TAGS] or ifd["entries"])
        if e["tag"] == 259:
            v = rng.choice(COMPRESSIONS)
        elif e["tag"] in (273, 324):
            v = rng.choice(TAG_VALUES + [len(data), len(data) - 1, len(data) + 1])
        else:
            v = rng.choice(TAG_VALUES)
        idx = rng.randrange(max(1, min(e["count"], 64)))
        t.set_value(e, v, idx)
        return bytes(t.data), f"IFD {ifd_i} {TIFF_TAGS.get(e['tag'], e['tag'])}[{idx}] = {v}"
    if op == "count":
        e = rng.choice(ifd["entries"])
        v = rng.choice([0, 2, 2**31, 2**32 - 1, 2**62])
        t.set_word(e["pos"] + 4, v)
        return bytes(t.data), f"IFD {ifd_i} tag {e['tag']} count = {v}"
    if op == "type":
        e = rng.choice(ifd["entries"])
        v = rng.choice([0, 2, 5, 12, 13, 16, 99, 65535])
        struct.pack_into(t.bo + "H", t.data, e["pos"] + 2, v)
        return bytes(t.data), f"IFD {ifd_i} tag {e['tag']} type = {v}"
    if op == "next":
        target = rng.choice(["self", "first", "eof", "odd", "zero", "huge"])
        v = {"self": ifd["off"], "first": t.ifds[0]["off"], "eof": len(data) + 100, "odd": ifd["off"] + 1,
             "zero": 0, "huge": 2**32 - 2}[target]
        t.set_word(ifd["next"], v)
        return bytes(t.data), f"IFD {ifd_i} next-IFD offset -> {target} ({v})"
    if op == "nentries":
        v = rng.choice([0, 1, 0xFFFF, ifd["n"] + 1])
        if t.big:
            struct.pack_into(t.bo + "Q", t.data, ifd["off"], v)
        else:
            struct.pack_into(t.bo + "H", t.data, ifd["off"], v)
        return bytes(t.data), f"IFD {ifd_i} entry count = {v}"
    if op == "flip":
        start = rng.choice([0, ifd["off"]])
        end = min(len(data), (16 if start == 0 else ifd["next"] + 8))
        n = rng.randint(1, 6)
        spots = []
        for _ in range(n):
            p = rng.randrange(start, max(start + 1, end))
            t.data[p] ^= 1 << rng.randrange(8)
            spots.append(p)
        return bytes(t.data), f"bit flips at {spots}"
    if op == "header":
        kind = rng.choice(["magic", "version", "first", "firsteof"])
        if kind == "magic":
            t.data[0:2] = rng.choice([b"MI", b"IM", b"\0\0"])
        elif kind == "version":
            struct.pack_into(t.bo + "H", t.data, 2, rng.choice([43, 42, 0, 44]))
        elif kind == "first":
            t.set_word(t.first_ptr, rng.choice([0, 1, 3, 7]))
        else:
            t.set_word(t.first_ptr, len(data) + rng.choice([0, 8, 2**20]))
        return bytes(t.data), f"header {kind}"
    if op == "truncate":
        cut = rng.randrange(0, len(data))
        return bytes(t.data[:cut]), f"truncated to {cut} of {len(data)}"
    # duplicate a tag: overwrite the next entry's tag with this entry's tag
    if len(ifd["entries"]) > 1:
        i = rng.randrange(len(ifd["entries"]) - 1)
        struct.pack_into(t.bo + "H", t.data, ifd["entries"][i + 1]["pos"], ifd["entries"][i]["tag"])
        return bytes(t.data), f"IFD {ifd_i} duplicate tag {ifd['entries'][i]['tag']}"
    return bytes(t.data), "unchanged"


OMEXML_ATTRS = {
    "SizeX": ["0", "-1", "1", "2147483648", "9223372036854775807", "18446744073709551616", "abc", "", "1e9"],
    "SizeY": ["0", "-1", "2147483647", "4294967296", "9223372036854775808", "x"],
    "SizeZ": ["0", "-1", "2", "1000000", "2147483648", "9223372036854775807", "3.5"],
    "SizeC": ["0", "-1", "7", "65536", "2147483648", "9223372036854775807"],
    "SizeT": ["0", "-1", "9", "4294967295", "9223372036854775807"],
    "DimensionOrder": ["XYZZT", "ABCDE", "", "XYTCZ", "XYZCTQ", "ZYXCT", "xyzct"],
    "IFD": ["-1", "999999", "2147483648", "18446744073709551615", "1"],
    "PlaneCount": ["0", "-1", "999999", "2147483648", "18446744073709551615"],
    "FirstZ": ["-1", "99999", "9223372036854775807"], "FirstC": ["-1", "99999"], "FirstT": ["-1", "4294967296"],
    "PhysicalSizeX": ["NaN", "-1", "0", "1e308", "1e400", "inf", "-inf", "abc"],
    "PhysicalSizeY": ["NaN", "-0.5", "0", "1e309"], "PhysicalSizeZ": ["NaN", "-2", "0", "Infinity"],
    "TimeIncrement": ["NaN", "-1"],
    "Type": ["float64", "bit", "foo", "int64", "complex", "double", "uint32"],
    "Color": ["-1", "4294967296", "red", "", "2147483648", "0"],
    "SamplesPerPixel": ["0", "-1", "4", "1000"],
    "SignificantBits": ["0", "99"],
    "PhysicalSizeXUnit": ["furlong", "", "µm", "pc"],
    "ID": ["", "Image:0", "Pixels:0:0"],
    "TheZ": ["-1", "99999"], "TheC": ["99999"], "TheT": ["-1"],
}


def mutate_omexml(xml: str, rng: random.Random) -> tuple[str, str]:
    op = rng.choice(["attr", "attr", "attr", "attr", "attr2", "remove", "dupimage", "truncate", "channels",
                     "garbage", "entity"])
    if op in ("attr", "attr2"):
        descs = []
        for _ in range(1 if op == "attr" else 3):
            present = [a for a in OMEXML_ATTRS if re.search(rf'\b{a}="', xml)]
            if not present:
                break
            a = rng.choice(present)
            v = rng.choice(OMEXML_ATTRS[a])
            occ = [m.start() for m in re.finditer(rf'\b{a}="[^"]*"', xml)]
            pos = rng.choice(occ)
            xml = xml[:pos] + re.sub(rf'^{a}="[^"]*"', f'{a}="{v}"', xml[pos:], count=1)
            descs.append(f"{a}={v!r}")
        return xml, "OME-XML " + ", ".join(descs)
    if op == "remove":
        el = rng.choice(["TiffData", "Channel", "Pixels", "Image", "Plane", "UUID"])
        xml2 = re.sub(rf"<{el}\b[^>]*/>", "", xml, count=1)
        if xml2 == xml:
            xml2 = re.sub(rf"<{el}\b.*?</{el}>", "", xml, count=1, flags=re.S)
        return xml2, f"removed first <{el}>"
    if op == "dupimage":
        m = re.search(r"<Image\b.*?</Image>", xml, re.S)
        if m:
            n = rng.choice([2, 50, 5000])
            img = m.group(0)
            copies = "".join(img.replace('ID="Image:', f'ID="Image:{k}') for k in range(1, n))
            return xml[:m.end()] + copies + xml[m.end():], f"{n} copies of <Image>"
        return xml, "no image"
    if op == "truncate":
        cut = rng.randrange(len(xml))
        return xml[:cut], f"XML truncated at {cut}"
    if op == "channels":
        n = rng.choice([10, 10000])
        ch = '<Channel ID="Channel:0:{k}" SamplesPerPixel="1" Color="{c}"/>'
        extra = "".join(ch.format(k=k, c=rng.choice(["-1", "abc", "16711935"])) for k in range(100, 100 + n))
        return xml.replace("</Pixels>", extra + "</Pixels>", 1) if "</Pixels>" in xml else xml, f"{n} extra channels"
    if op == "entity":
        bomb = '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' \
               '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        xml = re.sub(r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + bomb, xml, count=1)
        return xml.replace('Name="', 'Name="&d;&d;', 1), "entity expansion"
    p = rng.randrange(len(xml))
    return xml[:p] + rng.choice(["<", "&", "\x00", "]]>", '"', "<a><b></a>"]) + xml[p:], "garbage inserted"


IJ_KEYS = {
    "images": ["0", "-1", "1", "999999", "2147483648", "9223372036854775807", "x"],
    "channels": ["0", "-1", "2", "7", "2147483648", "9223372036854775807"],
    "slices": ["0", "-1", "3", "1000000", "4294967296"],
    "frames": ["0", "-1", "5", "9223372036854775808"],
    "spacing": ["NaN", "-1", "0", "1e308", "1e400", "inf", "abc"],
    "unit": ["", "furlong", "\\u00B5m", "micron", "pixel", "\u00e9" * 100],
    "min": ["NaN", "1e400", "-inf", "5"], "max": ["NaN", "-1e400", "0"],
    "hyperstack": ["true", "false", "maybe"], "mode": ["composite", "color", "grayscale", "???"],
    "finterval": ["NaN", "-1", "0"], "loop": ["true", "x"],
}


def mutate_imagej(desc: str, rng: random.Random) -> tuple[str, str]:
    lines = desc.split("\n")
    op = rng.choice(["set", "set", "set", "set2", "delete", "dup", "garbage"])
    if op in ("set", "set2"):
        descs = []
        for _ in range(1 if op == "set" else 3):
            k = rng.choice(list(IJ_KEYS))
            v = rng.choice(IJ_KEYS[k])
            idx = [i for i, l in enumerate(lines) if l.startswith(k + "=")]
            if idx:
                lines[idx[0]] = f"{k}={v}"
            else:
                lines.insert(1, f"{k}={v}")
            descs.append(f"{k}={v}")
        return "\n".join(lines), "ImageJ " + ", ".join(descs)
    if op == "delete" and len(lines) > 2:
        i = rng.randrange(1, len(lines))
        removed = lines.pop(i)
        return "\n".join(lines), f"ImageJ removed {removed!r}"
    if op == "dup":
        k = rng.choice(["images", "channels", "slices", "frames"])
        return "\n".join(lines + [f"{k}={rng.choice(IJ_KEYS[k])}"]), f"ImageJ duplicate {k}"
    return desc + "\n" + rng.choice(["=", "images", "channels==3", "\0\0", "slices=3=4"]), "ImageJ garbage line"


# ---------------------------------------------------------------- seeds

class Seeds:
    def __init__(self, root: Path, binary: str, seed: int):
        self.root = root
        self.binary = binary
        self.rng = np.random.default_rng(seed)
        root.mkdir(parents=True, exist_ok=True)

    def arr(self, shape, dtype):
        if np.dtype(dtype).kind == "f":
            return self.rng.random(shape).astype(dtype) * 100
        return self.rng.integers(0, min(np.iinfo(dtype).max, 4000), shape).astype(dtype)

    def build(self):
        r = self.root / "tiff"
        r.mkdir(exist_ok=True)
        W = tifffile.imwrite
        W(r / "plain_u8_2d.tif", self.arr((64, 80), np.uint8), rowsperstrip=16)
        W(r / "tiled_u16_3d.tif", self.arr((4, 64, 64), np.uint16), tile=(16, 16), compression="zlib")
        W(r / "rgb_u8.tif", self.arr((48, 40, 3), np.uint8), photometric="rgb", rowsperstrip=8)
        W(r / "f32_big.tif", self.arr((3, 40, 36), np.float32), bigtiff=True, rowsperstrip=10)
        W(r / "be_u16.tif", self.arr((2, 30, 30), np.uint16), byteorder=">", compression="zlib", predictor=True)
        W(r / "planar_u8.tif", self.arr((3, 32, 32), np.uint8), photometric="rgb", planarconfig="separate")
        o = self.root / "ometiff"
        o.mkdir(exist_ok=True)
        W(o / "tczyx_u16.ome.tif", self.arr((2, 2, 3, 32, 32), np.uint16), ome=True, tile=(16, 16),
          metadata={"axes": "TCZYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5, "PhysicalSizeZ": 2.0,
                    "Channel": {"Name": ["a", "b"]}})
        W(o / "zyx_f32.ome.tif", self.arr((4, 24, 20), np.float32), ome=True, metadata={"axes": "ZYX"})
        W(o / "yx_u8_big.ome.tif", self.arr((50, 60), np.uint8), ome=True, bigtiff=True, metadata={"axes": "YX"})
        with tifffile.TiffWriter(o / "two_series.ome.tif", ome=True) as tw:
            tw.write(self.arr((2, 20, 20), np.uint8), metadata={"axes": "ZYX"})
            tw.write(self.arr((3, 16, 24), np.uint16), metadata={"axes": "CYX"})
        j = self.root / "imagej"
        j.mkdir(exist_ok=True)
        W(j / "zcyx_u16.tif", self.arr((3, 2, 32, 32), np.uint16), imagej=True,
          metadata={"axes": "ZCYX", "spacing": 2.0, "unit": "um", "min": 0, "max": 4000}, resolution=(2.0, 2.0))
        W(j / "tzyx_f32.tif", self.arr((2, 3, 24, 24), np.float32), imagej=True,
          metadata={"axes": "TZYX", "finterval": 1.5})
        W(j / "yx_u8.tif", self.arr((40, 40), np.uint8), imagej=True)
        f = self.root / "folders"
        for name, files in {"natural": [f"plane{i}.tif" for i in range(1, 5)],
                            "pattern": [f"img_t{t}_c{c}_z{z}.tif" for t in range(2) for c in range(2) for z in range(2)]
                            }.items():
            d = f / name
            d.mkdir(parents=True, exist_ok=True)
            for fn in files:
                W(d / fn, self.arr((24, 28), np.uint16))
        z = self.root / "zarr"
        z.mkdir(exist_ok=True)
        W(z / "_big.tif", self.arr((128, 128), np.uint16))
        W(z / "_lab.tif", self.arr((128, 128), np.uint8) % 4)
        W(z / "_vol.tif", self.arr((16, 48, 48), np.uint8))
        conv = [
            ("img_labels", [z / "_big.tif", "--chunks", "32,32", "--levels", "2", "--label", f"cells={z / '_lab.tif'}"]),
            ("vol_zstd", [z / "_vol.tif", "--chunks", "8,16,16", "--compressor", "zstd", "--levels", "2"]),
            ("vol_none", [z / "_vol.tif", "--chunks", "4,16,16", "--compressor", "none", "--levels", "1"]),
            ("vol_gzip_06", [z / "_vol.tif", "--chunks", "8,16,16", "--compressor", "gzip", "--version", "0.6"]),
            ("v2_04", [o / "tczyx_u16.ome.tif", "--version", "0.4", "--chunks", "1,1,1,16,16"]),
            ("omero_5d", [o / "tczyx_u16.ome.tif", "--chunks", "1,1,1,16,16"]),
            ("bf2raw", [o / "two_series.ome.tif"]),
            ("imagej_ch", [j / "zcyx_u16.tif", "--channel-colors", "FF0000,00FF00"]),
        ]
        for name, args in conv:
            out = z / name
            if not out.exists():
                subprocess.run([self.binary, "convert", str(args[0]), str(out), "--quiet", *map(str, args[1:])],
                               check=False, timeout=120, capture_output=True)
        sample = REPO / "sample.ome.zarr"
        if not sample.exists():
            sample = Path("/work/main/sample.ome.zarr")
        if sample.exists() and not (z / "sample").exists():
            shutil.copytree(sample, z / "sample")
        # a local collection document over two images
        if (z / "img_labels").exists() and not (z / "coll.json").exists():
            subprocess.run([self.binary, "collection", "create", str(z / "coll.json"), str(z / "img_labels"),
                            str(z / "vol_zstd")], capture_output=True, timeout=60)

    def zarr_seeds(self):
        return sorted(p for p in (self.root / "zarr").iterdir() if p.is_dir() and
                      ((p / "zarr.json").exists() or (p / ".zgroup").exists() or (p / ".zattrs").exists()))

    def tiff_seeds(self, kinds=("tiff", "ometiff", "imagej")):
        return sorted(p for k in kinds for p in (self.root / k).glob("*.tif"))


def fixture_docs():
    """JSON fixtures: (path, kind) with kind 'zarr.json', '.zattrs' or 'collection'."""
    out = []
    if not FIXTURES.exists():
        return out
    for p in sorted(FIXTURES.rglob("*.json")):
        try:
            doc = json.loads(p.read_text())
        except Exception:
            continue
        if not isinstance(doc, dict):
            continue
        if "rfc8" in p.parts or (isinstance(doc.get("ome"), dict) and doc["ome"].get("type") == "collection"):
            out.append((p, "collection"))
        elif doc.get("zarr_format") == 3:
            out.append((p, "zarr.json"))
        elif "multiscales" in doc or "plate" in doc or "well" in doc:
            out.append((p, ".zattrs"))
    return out


# ---------------------------------------------------------------- cases

def meta_files(root: Path):
    return sorted(p for p in root.rglob("*") if p.name in ("zarr.json", ".zarray", ".zattrs", ".zgroup"))


def rank_of(root: Path) -> int:
    for name in ("zarr.json", ".zattrs"):
        p = root / name
        if p.exists():
            try:
                doc = json.loads(p.read_text())
                a = doc.get("attributes", doc)
                a = a.get("ome", a)
                return len(a["multiscales"][0]["axes"])
            except Exception:
                pass
    return 3


def copy_input(src: Path, case: Path) -> Path:
    dst = case / "in" / src.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)
    return dst


def write_json_text(path: Path, doc, rng: random.Random, raw: Raw, desc: str) -> str:
    text = raw.dumps(doc)
    path.write_text(text)
    return desc


class Corpus:
    def __init__(self, out: Path, seeds: Seeds, seed: int):
        self.out = out
        self.seeds = seeds
        self.seed = seed
        self.fixtures = fixture_docs()

    def rng(self, family, i):
        return random.Random(f"{self.seed}-{family}-{i}")

    def new_case(self, family, i) -> Path:
        case = self.out / f"{family}-{i:04d}"
        if case.exists():
            shutil.rmtree(case)
        case.mkdir(parents=True)
        return case

    def finish(self, case: Path, **meta):
        meta.setdefault("rank", 3)
        meta["input"] = str(Path(meta["input"]).relative_to(case))
        (case / "case.json").write_text(json.dumps(meta, indent=1))
        return case

    # shards
    def shard(self, i):
        rng = self.rng("shard", i)
        seed = rng.choice([s for s in self.seeds.zarr_seeds() if s.name not in ("v2_04", "sample")])
        case = self.new_case("shard", i)
        inp = copy_input(seed, case)
        shards = sorted(p for p in inp.rglob("*") if p.is_file() and "/c/" in str(p.relative_to(inp.parent)))
        if not shards:
            return self.finish(case, family="shard", kind="zarr", input=inp, desc="no shard", rank=rank_of(inp))
        s = rng.choice(shards)
        data = bytearray(s.read_bytes())
        op = rng.choice(["flip", "truncate", "zerotail", "index", "index", "index", "empty", "random", "extra", "dir"])
        if op == "flip":
            spots = [rng.randrange(len(data)) for _ in range(rng.randint(1, 8))]
            for p in spots:
                data[p] ^= 1 << rng.randrange(8)
            desc = f"bit flips at {spots}"
        elif op == "truncate":
            cut = rng.randrange(len(data))
            data = data[:cut]
            desc = f"truncated to {cut}"
        elif op == "zerotail":
            k = rng.randint(1, min(len(data), 4096))
            data[-k:] = bytes(k)
            desc = f"last {k} bytes zeroed"
        elif op == "index":
            # the index: n x (offset u64, nbytes u64) + crc32c at the end; rewrite the crc so it passes
            n = 0
            for cand in range(1, 4097):
                if cand * 16 + 4 <= len(data):
                    o, nb = struct.unpack_from("<QQ", data, len(data) - 4 - cand * 16)
                    if o == 2**64 - 1 or o + nb <= len(data):
                        n = cand
                        continue
                break
            n = max(1, n)
            start = len(data) - 4 - n * 16
            # find exact n by checking the crc
            for cand in range(1, 4097):
                st = len(data) - 4 - cand * 16
                if st < 0:
                    break
                if crc32c(bytes(data[st:len(data) - 4])) == struct.unpack_from("<I", data, len(data) - 4)[0]:
                    n, start = cand, st
                    break
            j = rng.randrange(n)
            field = rng.choice(["offset", "nbytes", "both"])
            v = rng.choice([0, 1, len(data), len(data) - 1, 2**31, 2**63 - 1, 2**63, 2**64 - 1, 2**64 - 16,
                            2**64 - 2])
            pos = start + j * 16
            if field in ("offset", "both"):
                struct.pack_into("<Q", data, pos, v)
            if field in ("nbytes", "both"):
                struct.pack_into("<Q", data, pos + 8, rng.choice([v, 32, 0, 2**64 - 1]))
            if rng.random() < 0.85:
                struct.pack_into("<I", data, len(data) - 4, crc32c(bytes(data[start:len(data) - 4])))
            desc = f"index entry {j}/{n} {field} = {v} (crc fixed)"
        elif op == "empty":
            data = bytearray()
            desc = "empty shard"
        elif op == "random":
            data = bytearray(rng.randbytes(rng.choice([3, 20, 1000, len(data)])))
            desc = "random bytes"
        elif op == "extra":
            extra = s.parent.parent / "99" / "99"
            extra.parent.mkdir(parents=True, exist_ok=True)
            extra.write_bytes(bytes(data))
            desc = "an extra shard outside the grid"
        else:
            s.unlink()
            s.mkdir()
            data = None
            desc = "shard replaced by a directory"
        if data is not None:
            s.write_bytes(bytes(data))
        return self.finish(case, family="shard", kind="zarr", input=inp, rank=rank_of(inp),
                           desc=f"{seed.name}: {s.relative_to(inp)}: {desc}")

    def _json_case(self, family, i, focus=None, semantic=False):
        rng = self.rng(family, i)
        case = self.new_case(family, i)
        use_fixture = self.fixtures and rng.random() < 0.3
        if use_fixture:
            cands = [f for f in self.fixtures if f[1] != "collection"]
            src, kind = rng.choice(cands)
            grp = case / "in" / src.stem
            grp.mkdir(parents=True)
            target = grp / ("zarr.json" if kind == "zarr.json" else ".zattrs")
            if kind == ".zattrs":
                (grp / ".zgroup").write_text('{"zarr_format": 2}')
            shutil.copy2(src, target)
            inp = grp
            seedname = str(src.relative_to(FIXTURES))
        else:
            seed = rng.choice(self.seeds.zarr_seeds())
            inp = copy_input(seed, case)
            files = meta_files(inp)
            if semantic:
                files = [f for f in files if f.name in ("zarr.json", ".zattrs") and
                         ('"multiscales"' in f.read_text() or '"omero"' in f.read_text() or
                          '"bioformats2raw' in f.read_text() or '"labels"' in f.read_text() or
                          '"image-label"' in f.read_text())] or files
            target = rng.choice(files)
            seedname = f"{seed.name}/{target.relative_to(inp)}"
        rank = rank_of(inp)
        try:
            doc = json.loads(target.read_text())
        except Exception:
            doc = {}
        raw = Raw()
        descs = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            if semantic:
                doc, d = semantic_ome(doc, rng, raw)
            else:
                if rng.random() < 0.08:
                    text = target.read_text()
                    cut = rng.randrange(max(1, len(text)))
                    target.write_text(text[:cut])
                    return self.finish(case, family=family, kind="zarr", input=inp, rank=rank,
                                       desc=f"{seedname}: text truncated at {cut}")
                doc, d = mutate_json(doc, rng, raw, focus=focus)
            descs.append(d)
        target.write_text(raw.dumps(doc))
        return self.finish(case, family=family, kind="zarr", input=inp, rank=rank,
                           desc=f"{seedname}: " + "; ".join(descs))

    def zarrjson(self, i):
        return self._json_case("zarrjson", i, focus=["shape", "chunks", "chunk_grid", "chunk_shape", "codecs",
                                                     "data_type", "dtype", "fill_value", "dimension_names",
                                                     "chunk_key_encoding", "compressor", "filters", "order",
                                                     "zarr_format", "node_type", "index_codecs", "configuration",
                                                     "dimension_separator", "typesize", "axes"])

    def ome(self, i):
        return self._json_case("ome", i, semantic=True)

    def collection(self, i):
        rng = self.rng("collection", i)
        case = self.new_case("collection", i)
        colls = [f for f in self.fixtures if f[1] == "collection"]
        own = self.seeds.root / "zarr" / "coll.json"
        if own.exists() and (rng.random() < 0.5 or not colls):
            # mutate our own collection next to copies of its images
            for name in ("img_labels", "vol_zstd"):
                shutil.copytree(self.seeds.root / "zarr" / name, case / "in" / name)
            target = case / "in" / "coll.json"
            shutil.copy2(own, target)
            seedname = "coll.json"
        else:
            src, _ = rng.choice(colls)
            target = case / "in" / src.name
            target.parent.mkdir(parents=True)
            shutil.copy2(src, target)
            seedname = str(src.relative_to(FIXTURES))
        doc = json.loads(target.read_text())
        raw = Raw()
        descs = []
        for _ in range(rng.choice([1, 1, 2])):
            r = rng.random()
            nodes = doc.get("ome", {}).get("nodes") if isinstance(doc.get("ome"), dict) else None
            if r < 0.2 and nodes:
                n = rng.choice(nodes)
                if isinstance(n, dict):
                    n["path"] = {"type": "zarr", "path": rng.choice(["./" + target.name, ".", "..", "/", "../" * 40,
                                                                    "http://127.0.0.1:9/x", "./missing", ""])}
                    n["type"] = rng.choice([n.get("type"), "collection", "multiscale", "bogus"])
                    descs.append(f"node path -> {n['path']['path'][:30]!r} type {n['type']}")
                    continue
            if r < 0.3 and nodes:
                nodes.append(json.loads(json.dumps(nodes[0])))
                descs.append("duplicate node (same id)")
                continue
            if r < 0.38 and nodes:
                n = rng.choice([1000, 100000])
                doc["ome"]["nodes"] = (nodes * (n // len(nodes) + 1))[:n]
                descs.append(f"{n} nodes")
                continue
            doc, d = mutate_json(doc, rng, raw)
            descs.append(d)
        target.write_text(raw.dumps(doc))
        return self.finish(case, family="collection", kind="doc", input=target, desc=f"{seedname}: " + "; ".join(descs))

    def tiff(self, i):
        rng = self.rng("tiff", i)
        src = rng.choice(self.seeds.tiff_seeds())
        case = self.new_case("tiff", i)
        data = src.read_bytes()
        descs = []
        for _ in range(rng.choice([1, 1, 1, 2])):
            data, d = mutate_tiff(data, rng)
            descs.append(d)
            if len(data) < 16:
                break
        inp = case / "in" / src.name
        inp.parent.mkdir(parents=True)
        inp.write_bytes(data)
        return self.finish(case, family="tiff", kind="tiff", input=inp, desc=f"{src.name}: " + "; ".join(descs))

    def _desc_case(self, family, i, kinds, mutator):
        rng = self.rng(family, i)
        src = rng.choice(self.seeds.tiff_seeds(kinds))
        case = self.new_case(family, i)
        t = TiffMap(src.read_bytes())
        text = (t.description(0) or b"").decode("utf-8", "replace")
        for _ in range(rng.choice([1, 1, 2])):
            text, d = mutator(text, rng)
        t.set_description(0, text.encode("utf-8", "replace"))
        inp = case / "in" / src.name
        inp.parent.mkdir(parents=True)
        inp.write_bytes(bytes(t.data))
        return self.finish(case, family=family, kind="tiff", input=inp, desc=f"{src.name}: {d}")

    def omexml(self, i):
        return self._desc_case("omexml", i, ("ometiff",), mutate_omexml)

    def imagej(self, i):
        return self._desc_case("imagej", i, ("imagej",), mutate_imagej)

    def folder(self, i):
        rng = self.rng("folder", i)
        which = rng.choice(["natural", "pattern"])
        src = self.seeds.root / "folders" / which
        case = self.new_case("folder", i)
        inp = copy_input(src, case)
        files = sorted(inp.iterdir())
        victim = rng.choice(files)
        op = rng.choice(["size", "dtype", "rgb", "corrupt", "empty", "nottiff", "multipage", "missing",
                         "dupindex", "hugeindex", "float", "tiffmut"])
        W = tifffile.imwrite
        if op == "size":
            W(victim, np.zeros((rng.choice([1, 23, 240]), rng.choice([1, 29, 3])), np.uint16))
        elif op == "dtype":
            W(victim, np.zeros((24, 28), rng.choice([np.uint8, np.int32, np.float64])))
        elif op == "rgb":
            W(victim, np.zeros((24, 28, 3), np.uint8), photometric="rgb")
        elif op == "corrupt":
            d = bytearray(victim.read_bytes())
            d = d[:rng.randrange(len(d))]
            victim.write_bytes(bytes(d))
        elif op == "empty":
            victim.write_bytes(b"")
        elif op == "nottiff":
            victim.write_bytes(b"hello, this is not a TIFF\n" * 10)
        elif op == "multipage":
            W(victim, np.zeros((3, 24, 28), np.uint16))
        elif op == "missing":
            victim.unlink()
        elif op == "dupindex":
            shutil.copy2(victim, victim.with_name(re.sub(r"(\d+)(\.tif)$", r"0\1\2", victim.name)))
        elif op == "hugeindex":
            shutil.copy2(victim, victim.with_name(re.sub(r"\d+(\.tif)$", r"99999999999999999999\1", victim.name)))
        elif op == "float":
            W(victim, np.full((24, 28), np.nan, np.float32))
        else:
            data, d = mutate_tiff(victim.read_bytes(), rng)
            victim.write_bytes(data)
            op = f"tiff mutation ({d})"
        return self.finish(case, family="folder", kind="folder", input=inp,
                           pattern="img_t{t}_c{c}_z{z}.tif" if which == "pattern" else None,
                           desc=f"{which}: {victim.name}: {op}")

    def args(self, i):
        rng = self.rng("args", i)
        src = rng.choice(self.seeds.tiff_seeds(("tiff", "ometiff", "imagej")))
        case = self.new_case("args", i)
        inp = copy_input(src, case)
        big = ["0", "-1", "1", "2147483648", "9223372036854775807", "18446744073709551616", "nan", "1e400"]
        opts = {
            "--chunks": lambda: ",".join(rng.choice(big) for _ in range(rng.randint(1, 5))),
            "--shards": lambda: ",".join(rng.choice(big + ["3", "7"]) for _ in range(rng.randint(1, 5))),
            "--scale": lambda: ",".join(rng.choice(["nan", "-1", "0", "1e308", "1e400", "inf", "1", "-0"])
                                        for _ in range(rng.randint(1, 5))),
            "--translation": lambda: ",".join(rng.choice(["nan", "inf", "-1e308", "0"]) for _ in range(rng.randint(1, 5))),
            "--units": lambda: rng.choice(["furlong", "", "um,um,um,um,um,um,um", "micrometer,,", ","]),
            "--channel-colors": lambda: rng.choice(["ZZZZZZ", "#FF0000", "", "FF00FF," * 1000, "FFFFFFFFFF", "-1"]),
            "--channel-windows": lambda: rng.choice(["5:1", "nan:1", "0:inf", "1e400:2", ":", "1:2:3", "-inf:nan"]),
            "--channel-names": lambda: rng.choice(["", ",,,,", "a" * 100000, "x," * 1000]),
            "--levels": lambda: rng.choice(["0", "-1", "1000", "9223372036854775807", "64"]),
            "--memory-limit": lambda: rng.choice(["0", "1", "1K", "99999999T", "-5M", "nanG", "18446744073709551615"]),
            "--threads": lambda: rng.choice(["0", "-1", "100000", "2147483648"]),
            "--axes": lambda: rng.choice(["xx", "zyxq", "cc", "", "tczyxw", "x", "y,x,y", "c,c"]),
            "--compression-level": lambda: rng.choice(["99", "-5", "2147483648", "-2147483649"]),
            "--name": lambda: rng.choice(["", "a\nb", "\u0000", "é" * 10000, "../../x"]),
            "--series": lambda: rng.choice(["-1", "99", "9223372036854775807", "1"]),
            "--version": lambda: rng.choice(["0.4", "0.6"]),
            "--method": lambda: rng.choice(["mode", "median", "gaussian", "min"]),
        }
        picked = rng.sample(sorted(opts), rng.randint(1, 3))
        extra = []
        for k in picked:
            extra += [k, opts[k]()]
        if rng.random() < 0.3:
            extra.append("--xy-only")
        desc = " ".join(a if len(a) < 40 else a[:37] + "..." for a in extra)
        return self.finish(case, family="args", kind="tiff", input=inp, convert_args=extra, desc=f"{src.name}: {desc}")

    def large(self, i):
        rng = self.rng("large", i)
        case = self.new_case("large", i)
        seed = self.seeds.root / "zarr" / rng.choice(["img_labels", "vol_zstd", "v2_04", "vol_gzip_06"])
        inp = copy_input(seed, case)
        target = inp / ("zarr.json" if (inp / "zarr.json").exists() else ".zattrs")
        text = target.read_text()
        doc = json.loads(text)
        attrs = doc.get("attributes", doc)
        ome = attrs.get("ome", attrs)
        m = ome["multiscales"][0]
        kind = ["keys", "transforms", "datasets", "nesting", "axes", "longstring", "omero"][i % 7]
        raw = Raw()
        if kind == "keys":
            n = rng.choice([200000, 300000])
            attrs.update({f"k{j}": j for j in range(n)})
            desc = f"{n} extra attribute keys"
        elif kind == "transforms":
            n = 100000
            d = m["datasets"][0]
            d["coordinateTransformations"] = d["coordinateTransformations"] + \
                [{"type": "translation", "translation": [0.0] * len(m["axes"])}] * n
            desc = f"{n} transformations on dataset 0"
        elif kind == "datasets":
            n = 100000
            m["datasets"] = [dict(m["datasets"][0], path=f"p{j}") for j in range(n)]
            desc = f"{n} datasets"
        elif kind == "nesting":
            n = rng.choice([10000, 1000000])
            attrs["deep"] = raw.raw("[" * n + "]" * n)
            desc = f"nesting {n} deep"
        elif kind == "axes":
            n = rng.choice([1000, 100000])
            m["axes"] = [{"name": f"a{j}", "type": "space"} for j in range(n)]
            desc = f"{n} axes"
        elif kind == "longstring":
            attrs["long"] = "x" * 50_000_000
            desc = "a 50 MB string"
        else:
            n = 100000
            ome.setdefault("omero", {})["channels"] = [{"color": "FF0000", "window": {"start": 0, "end": 1, "min": 0,
                                                                                      "max": 1}}] * n
            desc = f"{n} omero channels"
        target.write_text(raw.dumps(doc))
        return self.finish(case, family="large", kind="zarr", input=inp, rank=rank_of(seed),
                           desc=f"{seed.name}/{target.name}: {desc}")


def generate(out: Path, count: int, seed: int, families, binary: str, only_ids=None):
    """Build seeds and cases; yields each case directory."""
    seeds = Seeds(out / "seeds", binary, seed)
    seeds.build()
    corpus = Corpus(out / "cases", seeds, seed)
    for fam in families:
        # the huge documents come in LARGE_KINDS kinds; more cases would only repeat them slowly
        for i in range(min(count, LARGE_KINDS) if fam == "large" else count):
            cid = f"{fam}-{i:04d}"
            if only_ids and cid not in only_ids:
                continue
            try:
                yield getattr(corpus, fam)(i)
            except Exception as e:  # a mutator bug must not stop the corpus
                print(f"mutate: {cid}: {type(e).__name__}: {e}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--binary", default=str(REPO / ".build" / "debug" / "ome2zarr"))
    a = ap.parse_args()
    n = 0
    for _ in generate(a.out, a.count, a.seed, a.families.split(","), a.binary):
        n += 1
    print(f"{n} cases in {a.out / 'cases'}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Byte shuffle or bitshuffle for the default blosc compressor: size and speed on 64^3 chunks.

    .venv-bench/bin/python Benchmarks/shuffle_study.py [--tiff STACK.ome.tif] [--zarr STORE.ome.zarr]
        [--shape 128,512,512] [--repeats 3] [--threads 1,2] [--lib numcodecs|system] [--datasets a,b,...]

Our default compressor is c-blosc 1, zstd level 3, byte shuffle, typesize = the sample size,
blocksize 0 (automatic), one blosc thread per chunk (blosc_compress_ctx(..., 1)), chunks of 64^3,
several chunks encoded at once on a thread pool. This script does the same with numcodecs' Blosc
(c-blosc 1 bundled by numcodecs; Blosc.use_threads = False makes it call blosc_compress_ctx with one
internal thread and without the GIL), or with --lib system through ctypes on the system's
libblosc.so.1, the very library ome2zarr links. For every data set and every shuffle (noshuffle,
shuffle, bitshuffle) it encodes all 64^3 chunks and decodes them again, on 1 thread and on a pool of
N threads over chunks, best of --repeats, and reports the compressed size (ratio = raw / compressed)
and encode / decode MB/s (MB = 10^6 bytes of raw data). Every decoded chunk is compared with its input
once.

Data sets (synthetic ones are seeded and made in memory; --shape sets their z,y,x size):
  sample_stack        --tiff: the convert benchmark's stack (make-sample-tiff: smooth signal plus noise)
  fluo_dim            fluorescence, sCMOS model: sparse textured nuclei (3-D Gaussian-blurred ellipsoids)
                      on a dim background with out-of-focus haze; Poisson photon noise, read noise
                      1.5 e- rms, 2.17 ADU/e-, offset 100 ADU, 12-bit clip; background 3 e-, nuclei ~30 e-
  fluo_bright         the same scene, background 100 e-, nuclei ~1500 e- (12-bit, ~4000 ADU peaks)
  fluo_bright16       the same scene, background 500 e-, nuclei ~20000 e- (16-bit range)
  em_u8               EM-like (FIB-SEM): cell membranes, dark organelles, granular texture, noise; uint8
  em_u8_in_u16        the same values stored as uint16 (an 8-bit range in 16-bit samples)
  labels_nuclei_u32   the nuclei as a label image: sparse piecewise-constant uint32, background 0
  labels_cells_u32    dense cell segmentation (Voronoi cells, every voxel labelled), uint32
  pyramid             --zarr: every level of an existing OME-Zarr (e.g. ome2zarr's output of the
                      stack), re-encoded in 64^3 chunks: the whole store's size under each shuffle

Output: one JSON line per data set, shuffle and thread count, then a markdown table and, per data
set, bitshuffle against byte shuffle (size change, encode and decode speed ratios).
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

CHUNK = 64
SHUFFLES = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


# --------------------------------------------------------------------------------------------
# Codecs: numcodecs' Blosc (bundled c-blosc 1) or the system's libblosc.so.1 through ctypes.
# --------------------------------------------------------------------------------------------

class NumcodecsBlosc:
    def __init__(self, cname, clevel, shuffle):
        from numcodecs import Blosc
        Blosc.use_threads = False  # blosc_compress_ctx(..., blocksize, 1), GIL released: like ours
        self.codec = Blosc(cname=cname, clevel=clevel, shuffle=SHUFFLES[shuffle], blocksize=0)

    def encode(self, chunk):
        return self.codec.encode(chunk)

    def decode(self, frame, out):
        self.codec.decode(frame, out=out)
        return out

    @staticmethod
    def version():
        import numcodecs
        from numcodecs import blosc
        return f"numcodecs {numcodecs.__version__}, c-blosc {blosc.VERSION_STRING}"


class SystemBlosc:
    _lib = None

    def __init__(self, cname, clevel, shuffle):
        if SystemBlosc._lib is None:
            path = ctypes.util.find_library("blosc") or "libblosc.so.1"
            lib = ctypes.CDLL(path)  # CDLL calls release the GIL
            lib.blosc_compress_ctx.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p,
                                               ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
            lib.blosc_compress_ctx.restype = ctypes.c_int
            lib.blosc_decompress_ctx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
            lib.blosc_decompress_ctx.restype = ctypes.c_int
            lib.blosc_get_version_string.restype = ctypes.c_char_p
            SystemBlosc._lib = lib
        self.cname, self.clevel, self.shuffle = cname.encode(), clevel, SHUFFLES[shuffle]

    def encode(self, chunk):
        out = np.empty(chunk.nbytes + 16, np.uint8)  # BLOSC_MAX_OVERHEAD = 16
        n = self._lib.blosc_compress_ctx(self.clevel, self.shuffle, chunk.itemsize, chunk.nbytes, chunk.ctypes.data,
                                         out.ctypes.data, out.nbytes, self.cname, 0, 1)
        if n <= 0:
            raise RuntimeError(f"blosc_compress_ctx failed ({n})")
        return out[:n].tobytes()

    def decode(self, frame, out):
        n = self._lib.blosc_decompress_ctx(frame, out.ctypes.data, out.nbytes, 1)
        if n != out.nbytes:
            raise RuntimeError(f"blosc_decompress_ctx failed ({n})")
        return out

    @classmethod
    def version(cls):
        cls("zstd", 3, "shuffle")
        return f"system libblosc {cls._lib.blosc_get_version_string().decode()}"


# --------------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------------

def chunks_of(vol):
    """C-contiguous 64^3 chunks; edge chunks padded with zeros to the full chunk, as Zarr v3 stores them."""
    out = []
    nz, ny, nx = vol.shape
    for z in range(0, nz, CHUNK):
        for y in range(0, ny, CHUNK):
            for x in range(0, nx, CHUNK):
                block = vol[z:z + CHUNK, y:y + CHUNK, x:x + CHUNK]
                if block.shape != (CHUNK,) * 3:
                    full = np.zeros((CHUNK,) * 3, vol.dtype)
                    full[:block.shape[0], :block.shape[1], :block.shape[2]] = block
                    block = full
                out.append(np.ascontiguousarray(block))
    return out


class Scene:
    """Nuclei and cells shared by the fluorescence, label and EM data sets (seeded, so reproducible).
    Pixel size 0.5 um in z, 0.2 um in y and x, like the convert benchmark's stack."""

    def __init__(self, shape):
        self.shape = shape
        self._nuclei = self._fluo = self._cells = None

    def nuclei(self):
        """uint32 labels of ellipsoidal nuclei (radius ~2-3.6 um), sparse: ~10-15 % of the volume. Cached."""
        if self._nuclei is not None:
            return self._nuclei
        nz, ny, nx = self.shape
        rng = np.random.default_rng(1)
        labels = np.zeros(self.shape, np.uint32)
        # ~ one nucleus per 1800 um^3 (voxels of 0.5 x 0.2 x 0.2 um)
        count = max(4, int(nz * 0.5 * ny * 0.2 * nx * 0.2 / 1800))
        for label in range(1, count + 1):
            rxy = rng.uniform(10, 18)            # pixels (2-3.6 um)
            rz = rxy * 0.2 / 0.5 * rng.uniform(0.8, 1.2)
            cz, cy, cx = rng.uniform(0, nz), rng.uniform(0, ny), rng.uniform(0, nx)
            z0, z1 = max(0, int(cz - rz)), min(nz, int(cz + rz) + 1)
            y0, y1 = max(0, int(cy - rxy)), min(ny, int(cy + rxy) + 1)
            x0, x1 = max(0, int(cx - rxy)), min(nx, int(cx + rxy) + 1)
            if z0 >= z1 or y0 >= y1 or x0 >= x1:
                continue
            zz, yy, xx = np.ogrid[z0:z1, y0:y1, x0:x1]
            inside = ((zz - cz) / rz) ** 2 + ((yy - cy) / rxy) ** 2 + ((xx - cx) / (rxy * rng.uniform(0.8, 1.2))) ** 2 <= 1
            region = labels[z0:z1, y0:y1, x0:x1]
            region[inside & (region == 0)] = label
        self._nuclei = labels
        return labels

    def fluorescence_expectation(self):
        """Expected signal per voxel, nuclei ~1: textured nuclei blurred by an anisotropic PSF, plus
        out-of-focus haze. Cached."""
        if self._fluo is not None:
            return self._fluo
        from scipy import ndimage
        labels = self.nuclei()
        rng = np.random.default_rng(2)
        brightness = rng.uniform(0.5, 1.5, int(labels.max()) + 1).astype(np.float32)
        brightness[0] = 0
        obj = brightness[labels]
        # chromatin texture: smoothed noise, multiplicative
        texture = ndimage.gaussian_filter(rng.standard_normal(self.shape, dtype=np.float32), (0.8, 2, 2))
        texture /= texture.std() + 1e-6
        obj *= np.clip(1 + 0.35 * texture, 0.2, None)
        del texture
        psf = ndimage.gaussian_filter(obj, (2.0, 1.2, 1.2))
        haze = ndimage.gaussian_filter(obj, (8, 25, 25))
        self._fluo = psf + 0.15 * haze / max(float(haze.max()), 1e-6) * float(psf.max())
        return self._fluo

    def cells(self):
        """Dense uint32 segmentation: Voronoi cells around random seeds (2 per nucleus). Cached."""
        if self._cells is not None:
            return self._cells
        from scipy import ndimage
        labels = self.nuclei()
        rng = np.random.default_rng(3)
        nz, ny, nx = self.shape
        seeds = np.zeros(self.shape, bool)
        n = int(labels.max()) * 2
        seeds[rng.integers(0, nz, n), rng.integers(0, ny, n), rng.integers(0, nx, n)] = True
        ids = np.zeros(self.shape, np.uint32)
        ids[seeds] = np.arange(1, int(seeds.sum()) + 1, dtype=np.uint32)
        _, idx = ndimage.distance_transform_edt(~seeds, sampling=(0.5, 0.2, 0.2), return_indices=True)
        self._cells = ids[idx[0], idx[1], idx[2]]
        return self._cells


def camera(expect, background_e, signal_e, gain=2.17, offset=100.0, read_noise_e=1.5, max_adu=4095, seed=4):
    """sCMOS: photon (Poisson) noise on background + signal photoelectrons, Gaussian read noise,
    gain in ADU per e-, offset, rounding and clipping to the ADC range."""
    rng = np.random.default_rng(seed)
    lam = background_e + signal_e * expect
    electrons = rng.poisson(lam).astype(np.float32)
    electrons += rng.normal(0, read_noise_e, lam.shape).astype(np.float32)
    adu = np.rint(electrons * gain + offset)
    return np.clip(adu, 0, max_adu).astype(np.uint16)


def em_volume(scene):
    """uint8 FIB-SEM-like: cytoplasm with shading and granular texture, dark membranes between
    cells, dark organelle blobs, detector noise."""
    from scipy import ndimage
    cells = scene.cells()
    rng = np.random.default_rng(5)
    membrane = np.zeros(scene.shape, bool)
    for axis in range(3):
        d = np.diff(cells, axis=axis) != 0
        sl = [slice(None)] * 3
        sl[axis] = slice(0, -1)
        membrane[tuple(sl)] |= d
    membrane = ndimage.binary_dilation(membrane, iterations=1)
    shading = ndimage.gaussian_filter(rng.standard_normal(scene.shape, dtype=np.float32), 6)
    base = 150 + 15 * shading / (shading.std() + 1e-6)
    del shading
    granules = ndimage.gaussian_filter(rng.standard_normal(scene.shape, dtype=np.float32), 1.0)
    base += 25 * granules / (granules.std() + 1e-6)
    del granules
    base[membrane] -= 90
    del membrane
    organelles = ndimage.gaussian_filter((rng.random(scene.shape, dtype=np.float32) < 2e-4).astype(np.float32), 5)
    base -= 70 * np.clip(organelles / (organelles.max() + 1e-9) * 6, 0, 1)
    del organelles
    base = ndimage.gaussian_filter(base, 0.7)
    base += rng.normal(0, 12, scene.shape).astype(np.float32)
    return np.clip(np.rint(base), 0, 255).astype(np.uint8)


def read_pyramid(store):
    """Every level of an OME-Zarr image, leading singleton axes dropped."""
    import zarr
    g = zarr.open_group(store, mode="r")
    attrs = g.attrs.asdict()
    ome = attrs.get("ome", attrs)
    for d in ome["multiscales"][0]["datasets"]:
        a = np.asarray(g[d["path"]][...])
        while a.ndim > 3 and a.shape[0] == 1:
            a = a[0]
        yield a


def describe(name, vol):
    p = np.percentile(vol, [0.1, 50, 99.9])
    print(f"shuffle_study: {name} {vol.dtype} {vol.shape}: min {vol.min()} p0.1 {p[0]:.0f} median {p[1]:.0f} "
          f"p99.9 {p[2]:.0f} max {vol.max()}", file=sys.stderr)


def datasets(args):
    """(name, dtype name, shape, chunks) one at a time, so only one data set is in memory."""
    wanted = args.datasets
    if args.tiff and "sample_stack" in wanted:
        import tifffile
        vol = tifffile.imread(args.tiff)
        describe("sample_stack", vol)
        yield "sample_stack", vol.dtype.name, list(vol.shape), chunks_of(vol)
        del vol
    scene = Scene(args.shape)
    fluo = {
        "fluo_dim": dict(background_e=3, signal_e=30, max_adu=4095),
        "fluo_bright": dict(background_e=100, signal_e=1500, max_adu=4095),
        "fluo_bright16": dict(background_e=500, signal_e=20000, max_adu=65535),
    }
    for name, kw in fluo.items():
        if name in wanted:
            vol = camera(scene.fluorescence_expectation(), **kw)
            describe(name, vol)
            yield name, vol.dtype.name, list(vol.shape), chunks_of(vol)
            del vol
    scene._fluo = None
    if "em_u8" in wanted or "em_u8_in_u16" in wanted:
        em = em_volume(scene)
        describe("em_u8", em)
        if "em_u8" in wanted:
            yield "em_u8", "uint8", list(em.shape), chunks_of(em)
        if "em_u8_in_u16" in wanted:
            yield "em_u8_in_u16", "uint16", list(em.shape), chunks_of(em.astype(np.uint16))
        del em
    if "labels_nuclei_u32" in wanted:
        lab = scene.nuclei()
        print(f"shuffle_study: labels_nuclei_u32: {int(lab.max())} nuclei, {100 * np.count_nonzero(lab) / lab.size:.1f} % of voxels",
              file=sys.stderr)
        yield "labels_nuclei_u32", "uint32", list(lab.shape), chunks_of(lab)
    if "labels_cells_u32" in wanted:
        lab = scene.cells()
        print(f"shuffle_study: labels_cells_u32: {int(lab.max())} cells", file=sys.stderr)
        yield "labels_cells_u32", "uint32", list(lab.shape), chunks_of(lab)
        del lab
    if args.zarr and "pyramid" in wanted:
        all_chunks, shapes, dtype = [], [], None
        for a in read_pyramid(args.zarr):
            shapes.append(list(a.shape))
            dtype = a.dtype.name
            all_chunks += chunks_of(a)
        yield "pyramid", dtype, shapes, all_chunks


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------

def timed_map(fn, items, threads):
    t0 = time.perf_counter()
    if threads == 1:
        out = [fn(i) for i in items]
    else:
        with ThreadPoolExecutor(threads) as ex:
            out = list(ex.map(fn, items))
    return time.perf_counter() - t0, out


def measure(codec_cls, cname, clevel, shuffle, chunks, thread_counts, repeats):
    codec = codec_cls(cname, clevel, shuffle)
    raw = sum(c.nbytes for c in chunks)
    outs = [np.empty_like(c) for c in chunks]
    frames = [codec.encode(c) for c in chunks]  # warm-up, and the frames decoded below
    stored = sum(len(f) for f in frames)
    for c, f, o in zip(chunks, frames, outs):
        codec.decode(f, o)
        if not np.array_equal(c, o):
            raise AssertionError(f"{shuffle}: round trip differs")
    rows = []
    for threads in thread_counts:
        enc = dec = float("inf")
        for _ in range(repeats):
            enc = min(enc, timed_map(codec.encode, chunks, threads)[0])
            dec = min(dec, timed_map(lambda i: codec.decode(frames[i], outs[i]), range(len(frames)), threads)[0])
        rows.append({"threads": threads, "encode_mb_s": round(raw / enc / 1e6, 1), "decode_mb_s": round(raw / dec / 1e6, 1)})
    return raw, stored, rows


def main():
    all_sets = ["sample_stack", "fluo_dim", "fluo_bright", "fluo_bright16", "em_u8", "em_u8_in_u16",
                "labels_nuclei_u32", "labels_cells_u32", "pyramid"]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiff", help="the convert benchmark's stack (make-sample-tiff ... --compression none)")
    ap.add_argument("--zarr", help="an OME-Zarr image whose levels are re-encoded (data set 'pyramid')")
    ap.add_argument("--shape", default="128,512,512", help="z,y,x of the synthetic volumes (default 128,512,512)")
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats, best reported (default 3)")
    ap.add_argument("--threads", default=f"1,{os.cpu_count() or 1}", help="thread counts (default 1,<cores>)")
    ap.add_argument("--lib", choices=["numcodecs", "system"], default="numcodecs")
    ap.add_argument("--cname", default="zstd")
    ap.add_argument("--clevel", type=int, default=3)
    ap.add_argument("--datasets", default=",".join(all_sets), help="comma-separated subset of: " + ", ".join(all_sets))
    args = ap.parse_args()
    args.shape = tuple(int(s) for s in args.shape.split(","))
    args.datasets = set(args.datasets.split(","))
    unknown = args.datasets - set(all_sets)
    if unknown:
        ap.error(f"unknown data sets: {', '.join(sorted(unknown))}")
    threads = sorted({int(t) for t in args.threads.split(",")})
    codec_cls = NumcodecsBlosc if args.lib == "numcodecs" else SystemBlosc
    lib = codec_cls.version()
    print(f"shuffle_study: {lib}, blosc {args.cname} {args.clevel}, chunks {CHUNK}^3, threads {threads}, best of {args.repeats}",
          file=sys.stderr)

    results = []
    for name, dtype, shape, chunks in datasets(args):
        for shuffle in SHUFFLES:
            raw, stored, rows = measure(codec_cls, args.cname, args.clevel, shuffle, chunks, threads, args.repeats)
            for r in rows:
                line = {"dataset": name, "dtype": dtype, "shape": shape, "chunks": len(chunks), "shuffle": shuffle,
                        "threads": r["threads"], "raw_bytes": raw, "compressed_bytes": stored,
                        "ratio": round(raw / stored, 3), "encode_mb_s": r["encode_mb_s"], "decode_mb_s": r["decode_mb_s"],
                        "codec": f"blosc {args.cname} {args.clevel}", "lib": lib, "load_1m": round(os.getloadavg()[0], 2)}
                results.append(line)
                print(json.dumps(line), flush=True)
        del chunks

    # Markdown: one row per data set and shuffle; speeds for the lowest and highest thread count.
    lo, hi = threads[0], threads[-1]
    print()
    print(f"| data set | dtype | shuffle | compressed MB | ratio | enc MB/s {lo}t | enc MB/s {hi}t | dec MB/s {lo}t | dec MB/s {hi}t |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    by = {(r["dataset"], r["shuffle"], r["threads"]): r for r in results}
    names = list(dict.fromkeys(r["dataset"] for r in results))
    for name in names:
        for shuffle in SHUFFLES:
            a, b = by[(name, shuffle, lo)], by[(name, shuffle, hi)]
            print(f"| {name} | {a['dtype']} | {shuffle} | {a['compressed_bytes'] / 1e6:.2f} | {a['ratio']:.2f} | "
                  f"{a['encode_mb_s']:.0f} | {b['encode_mb_s']:.0f} | {a['decode_mb_s']:.0f} | {b['decode_mb_s']:.0f} |")
    print()
    print(f"| data set | bitshuffle size vs shuffle | encode {lo}t / {hi}t (bit/byte) | decode {lo}t / {hi}t (bit/byte) |")
    print("|---|---:|---:|---:|")
    for name in names:
        s1, b1, s2, b2 = by[(name, "shuffle", lo)], by[(name, "bitshuffle", lo)], by[(name, "shuffle", hi)], by[(name, "bitshuffle", hi)]
        print(f"| {name} | {100 * (b1['compressed_bytes'] / s1['compressed_bytes'] - 1):+.1f} % | "
              f"{b1['encode_mb_s'] / s1['encode_mb_s']:.2f}x / {b2['encode_mb_s'] / s2['encode_mb_s']:.2f}x | "
              f"{b1['decode_mb_s'] / s1['decode_mb_s']:.2f}x / {b2['decode_mb_s'] / s2['decode_mb_s']:.2f}x |")


if __name__ == "__main__":
    main()

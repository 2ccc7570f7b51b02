"""The export benchmark's peer: tifffile writing the pyramidal OME-TIFF that `ome2zarr export`
writes, from the same OME-Zarr read with zarr-python (level 0 whole), reduced levels as 2 x 2 means
rounded half to even (integer sums: 0.7 s for the standard stack), 512 x 512 tiles, deflate
(tifffile's "zlib": libdeflate through imagecodecs) at level 6 or --level N with the horizontal
predictor, all cores.

    export_peer.py IMAGE.ome.zarr OUT.ome.tif [--workers N] [--level N]
    export_peer.py --compare A.ome.tif B.ome.tif   -> JSON: whether every level is identical
"""
import json
import os
import sys

import numpy as np
import tifffile
import zarr


def halve(a):
    """2 x 2 means rounded half to even (as ome2zarr's mean); integer sums when the sizes are even."""
    h, w = a.shape[-2:]
    if h % 2 == 0 and w % 2 == 0 and np.issubdtype(a.dtype, np.unsignedinteger) and a.itemsize <= 2:
        # s / 4 rounded half to even is (s + 1 + (s >> 2 & 1)) >> 2.
        s = a[..., 0::2, 0::2].astype(np.uint32)
        s += a[..., 0::2, 1::2]
        s += a[..., 1::2, 0::2]
        s += a[..., 1::2, 1::2]
        s += 1 + ((s >> 2) & 1)
        s >>= 2
        return s.astype(a.dtype)
    f = a.astype(np.float64)
    if h % 2:
        f = np.concatenate([f, f[..., -1:, :]], axis=-2)
        f[..., -1, :] = np.nan
    if w % 2:
        f = np.concatenate([f, f[..., :, -1:]], axis=-1)
        f[..., :, -1] = np.nan
    m = np.nanmean(f.reshape(f.shape[:-2] + (f.shape[-2] // 2, 2, f.shape[-1] // 2, 2)), axis=(-3, -1))
    return np.round(m).astype(a.dtype)


def export(image, out, workers, level):
    group = zarr.open_group(image, mode="r")
    level0 = group["0"][...]
    levels = [level0]
    while max(levels[-1].shape[-2:]) > 512:
        levels.append(halve(levels[-1]))
    options = dict(tile=(512, 512), compression="zlib", compressionargs={"level": level}, predictor=True,
                   maxworkers=workers)
    with tifffile.TiffWriter(out, bigtiff=level0.nbytes > 2**32 - 2**25, ome=True) as tif:
        tif.write(level0, subifds=len(levels) - 1, metadata={"axes": "ZYX"}, **options)
        for lvl in levels[1:]:
            tif.write(lvl, subfiletype=1, **options)


def compare(a, b):
    with tifffile.TiffFile(a) as x, tifffile.TiffFile(b) as y:
        la, lb = x.series[0].levels, y.series[0].levels
        same = len(la) == len(lb) and all(np.array_equal(p.asarray(), q.asarray()) for p, q in zip(la, lb))
        print(json.dumps({"check": "tifffile's levels equal ours", "identical": bool(same),
                          "levels": [list(p.shape) for p in la]}))


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        options = dict(zip(sys.argv[3::2], sys.argv[4::2]))
        export(sys.argv[1], sys.argv[2], int(options.get("--workers", os.cpu_count())), int(options.get("--level", 6)))

"""Helpers of the large-plane tests (LargePlaneCommandTests).

    large_planes.py tiff PATH SIZE PLANES   writes a tiled (512 x 512) BigTIFF of PLANES uint16 planes of
                                            SIZE x SIZE, tile by tile (never a whole plane in memory)
    large_planes.py rss COMMAND...          runs COMMAND and prints its exit status and peak RSS in bytes
"""
import resource
import subprocess
import sys

import numpy as np
import tifffile

TILE = 512


def tiles(size, planes):
    for z in range(planes):
        for ty in range(0, size, TILE):
            for tx in range(0, size, TILE):
                y = np.arange(ty, ty + TILE, dtype=np.int64)[:, None]
                x = np.arange(tx, tx + TILE, dtype=np.int64)[None, :]
                # Smooth with some texture: compressible like microscopy, different in every tile.
                t = ((y * 7 + x * 3 + z * 11) // 5 + (y * x) % 13) % 4000
                yield t.astype(np.uint16)


def main():
    if sys.argv[1] == "tiff":
        path, size, planes = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        # An OME-TIFF with axes ZYX: a stack of planes (a bare 3-page TIFF would read as 3 channels).
        tifffile.imwrite(path, tiles(size, planes), shape=(planes, size, size), dtype=np.uint16, tile=(TILE, TILE),
                         bigtiff=True, ome=True, metadata={"axes": "ZYX"})
    elif sys.argv[1] == "rss":
        status = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL).returncode
        # ru_maxrss is in KiB on Linux.
        print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)


if __name__ == "__main__":
    main()

"""Writes a corpus of TIFFs with tifffile (every variant ome2zarr convert reads), with the expected
level-0 data (<name>.bin, C order, little-endian) and metadata in DIR/manifest.json.

  tiff_corpus.py DIR
"""
import json
import os
import sys

import numpy as np
import tifffile


def write_contiguous_imagej(path, planes):
    """A classic little-endian TIFF with a single IFD whose strip is the first plane, the other
    planes following it contiguously, and an ImageJ description announcing all of them."""
    import struct
    z, h, w = planes.shape
    desc = f"ImageJ=1.54f\nimages={z}\nslices={z}\nloop=false\n".encode() + b"\0"
    entries = []  # (tag, type, count, value or offset)
    header = 8
    ifd_count = 9
    ifd_size = 2 + ifd_count * 12 + 4
    desc_offset = header + ifd_size
    data_offset = desc_offset + len(desc)
    data_offset += data_offset % 2
    plane_bytes = h * w * 2
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 16), (259, 3, 1, 1), (262, 3, 1, 1),
               (270, 2, len(desc), desc_offset), (273, 4, 1, data_offset), (278, 4, 1, h), (279, 4, 1, plane_bytes)]
    with open(path, "wb") as f:
        f.write(b"II" + struct.pack("<HI", 42, header))
        f.write(struct.pack("<H", ifd_count))
        for tag, typ, count, value in entries:
            if typ == 3:
                f.write(struct.pack("<HHIHH", tag, typ, count, value, 0))
            else:
                f.write(struct.pack("<HHII", tag, typ, count, value))
        f.write(struct.pack("<I", 0))
        f.write(desc)
        f.write(b"\0" * (data_offset - desc_offset - len(desc)))
        f.write(planes.astype("<u2").tobytes())


def main(d):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(42)
    cases = []

    def add(name, expected, axes, scale=None, units=None, path=None, **extra):
        expected = np.ascontiguousarray(expected)
        expected.astype(expected.dtype.newbyteorder("<")).tofile(os.path.join(d, name + ".bin"))
        cases.append({"name": name, "path": path or name + ".tif", "shape": list(expected.shape),
                      "dtype": expected.dtype.newbyteorder("<").str, "axes": axes, "scale": scale, "units": units, **extra})

    def vol(shape, dtype="uint16"):
        dt = np.dtype(dtype)
        if dt.kind == "f":
            return (rng.standard_normal(shape) * 100).astype(dt)
        info = np.iinfo(dt)
        return rng.integers(max(info.min, -30000), min(info.max, 60000), size=shape, endpoint=True).astype(dt)

    # Compression, predictor, tiling, BigTIFF, byte order.
    a = vol((9, 70, 45))
    for comp, pred in [(None, None), ("lzw", None), ("lzw", 2), ("zlib", None), ("zlib", 2), ("packbits", None), ("zstd", 2)]:
        name = f"stack_{comp or 'none'}" + (f"_pred{pred}" if pred else "")
        tifffile.imwrite(os.path.join(d, name + ".tif"), a, compression=comp, predictor=pred, rowsperstrip=11)
        add(name, a, ["z", "y", "x"])
    tifffile.imwrite(os.path.join(d, "tiled_zlib.tif"), a, compression="zlib", tile=(32, 16))
    add("tiled_zlib", a, ["z", "y", "x"])
    tifffile.imwrite(os.path.join(d, "bigtiff.tif"), a, bigtiff=True, compression="zstd")
    add("bigtiff", a, ["z", "y", "x"])
    tifffile.imwrite(os.path.join(d, "bigendian.tif"), a.astype(">u2"), byteorder=">")
    add("bigendian", a, ["z", "y", "x"])
    tifffile.imwrite(os.path.join(d, "bigendian_lzw_pred.tif"), a.astype(">u2"), byteorder=">", compression="lzw", predictor=2)
    add("bigendian_lzw_pred", a, ["z", "y", "x"])
    # Sample formats.
    for dt in ["uint8", "int8", "int16", "uint32", "int32", "float32", "float64", "float16"]:
        v = vol((5, 20, 17), dt)
        tifffile.imwrite(os.path.join(d, f"format_{dt}.tif"), v, compression="zlib" if dt != "float16" else None,
                         predictor=(3 if dt.startswith("float") and dt != "float16" else 2) if dt != "float16" else None)
        add(f"format_{dt}", v, ["z", "y", "x"])
    # Single page.
    p = vol((50, 40))
    tifffile.imwrite(os.path.join(d, "single.tif"), p)
    add("single", p, ["y", "x"])
    # RGB: contiguous and separate planes, RGBA.
    rgb = vol((40, 30, 3), "uint8")
    tifffile.imwrite(os.path.join(d, "rgb_contig.tif"), rgb, photometric="rgb", compression="lzw")
    add("rgb_contig", rgb.transpose(2, 0, 1), ["c", "y", "x"])
    tifffile.imwrite(os.path.join(d, "rgb_planar.tif"), rgb.transpose(2, 0, 1), photometric="rgb", planarconfig="separate")
    add("rgb_planar", rgb.transpose(2, 0, 1), ["c", "y", "x"])
    rgba = vol((4, 24, 20), "uint8")
    tifffile.imwrite(os.path.join(d, "rgba_tiled.tif"), rgba.transpose(1, 2, 0), photometric="rgb", extrasamples=["unassalpha"],
                     tile=(16, 16))
    add("rgba_tiled", rgba, ["c", "y", "x"])
    # Colour JPEG as tifffile writes it by default (and Aperio): YCbCr with chroma halved, read as RGB
    # (expected: tifffile's decode; both decoders are libjpeg-turbo).
    yy, xx = np.mgrid[:48, :64]
    smooth = np.stack([128 + 100 * np.sin(xx / 9), 128 + 90 * np.cos(yy / 7), 128 + 80 * np.sin((xx + yy) / 11)], -1)
    tifffile.imwrite(os.path.join(d, "rgb_jpeg_ycbcr.tif"), smooth.astype(np.uint8), photometric="rgb", compression="jpeg",
                     tile=(16, 16))
    add("rgb_jpeg_ycbcr", tifffile.imread(os.path.join(d, "rgb_jpeg_ycbcr.tif")).transpose(2, 0, 1), ["c", "y", "x"])
    # OME-TIFF: physical sizes, channels, time.
    o = vol((2, 3, 5, 32, 24))  # TCZYX
    tifffile.imwrite(os.path.join(d, "ome_tczyx.ome.tif"), o, ome=True, compression="zlib",
                     metadata={"axes": "TCZYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25, "PhysicalSizeZ": 1.5,
                               "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm", "PhysicalSizeZUnit": "µm",
                               "TimeIncrement": 2.0, "TimeIncrementUnit": "s", "Channel": {"Name": ["DAPI", "GFP", "RFP"]}})
    add("ome_tczyx", o, ["t", "c", "z", "y", "x"], scale=[2.0, 1, 1.5, 0.25, 0.25], path="ome_tczyx.ome.tif",
        units=["second", None, "micrometer", "micrometer", "micrometer"], channels=["DAPI", "GFP", "RFP"])
    o2 = vol((4, 6, 20, 16))  # CZYX in nm
    tifffile.imwrite(os.path.join(d, "ome_nm.ome.tif"), o2, ome=True, tile=(16, 16),
                     metadata={"axes": "CZYX", "PhysicalSizeX": 120.0, "PhysicalSizeY": 120.0, "PhysicalSizeZ": 300.0,
                               "PhysicalSizeXUnit": "nm", "PhysicalSizeYUnit": "nm", "PhysicalSizeZUnit": "nm"})
    add("ome_nm", o2, ["c", "z", "y", "x"], scale=[1, 300.0, 120.0, 120.0], units=[None, "nanometer", "nanometer", "nanometer"],
        path="ome_nm.ome.tif")
    # OME-TIFF with two images (series).
    s0, s1 = vol((4, 30, 20)), vol((2, 18, 22), "uint8")
    with tifffile.TiffWriter(os.path.join(d, "ome_series.ome.tif")) as tw:
        tw.write(s0, metadata={"axes": "ZYX"})
        tw.write(s1, metadata={"axes": "ZYX"})
    add("ome_series_0", s0, ["z", "y", "x"], path="ome_series.ome.tif", series=0)
    add("ome_series_1", s1, ["z", "y", "x"], path="ome_series.ome.tif", series=1)
    # ImageJ hyperstacks.
    ij = vol((3, 4, 2, 26, 18), "uint16")  # TZCYX
    tifffile.imwrite(os.path.join(d, "imagej.tif"), ij, imagej=True, resolution=(1 / 0.35, 1 / 0.35),
                     metadata={"axes": "TZCYX", "spacing": 2.5, "unit": "um", "finterval": 0.5})
    add("imagej", ij.transpose(0, 2, 1, 3, 4), ["t", "c", "z", "y", "x"], scale=[0.5, 1, 2.5, 0.35, 0.35],
        units=["second", None, "micrometer", "micrometer", "micrometer"])
    ijz = vol((7, 30, 28), "float32")
    tifffile.imwrite(os.path.join(d, "imagej_float.tif"), ijz, imagej=True, metadata={"axes": "ZYX"})
    add("imagej_float", ijz, ["z", "y", "x"])
    # An ImageJ stack laid out like files over 4 GB: one IFD, the planes follow its data contiguously.
    planes = vol((5, 12, 10))
    write_contiguous_imagej(os.path.join(d, "imagej_contiguous.tif"), planes)
    add("imagej_contiguous", planes, ["z", "y", "x"])
    json.dump(cases, open(os.path.join(d, "manifest.json"), "w"), indent=1)
    print(len(cases))


if __name__ == "__main__":
    main(sys.argv[1])

"""Checks of `ome2zarr export` output with tifffile and zarr-python (JSON on stdout).

    export_checks.py levels OUT.ome.tif ZARR_LEVEL_PATH [labels|-] [CROP]
        -> the file's structure (BigTIFF, directories, tags, OME-XML fields) and, per resolution,
           its shape and how it compares with the OME-Zarr array: level 0 equal, each reduced
           level equal to a 2 x 2 block mean (mode for labels) of the one above, rounded.
    export_checks.py make5d OUT.ome.tif  -> writes a 5-D uint16 OME-TIFF (2 x 3 x 4 x 70 x 90)
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

import numpy as np
import tifffile
import zarr


def halve(a, labels):
    """2 x 2 blocks of the last two axes; edge blocks use what exists."""
    h, w = a.shape[-2:]
    ph, pw = h % 2, w % 2
    if labels:
        # Mode, ties to the smallest value, edge blocks from what exists.
        out = np.empty(a.shape[:-2] + ((h + 1) // 2, (w + 1) // 2), dtype=a.dtype)
        for i in range(out.shape[-2]):
            for j in range(out.shape[-1]):
                block = a[..., 2 * i:2 * i + 2, 2 * j:2 * j + 2].reshape(a.shape[:-2] + (-1,))
                for idx in np.ndindex(block.shape[:-1]):
                    values, counts = np.unique(block[idx], return_counts=True)
                    out[idx + (i, j)] = values[np.argmax(counts)]
        return out
    f = a.astype(np.float64)
    if ph:
        f = np.concatenate([f, np.full(f.shape[:-2] + (1, w), np.nan)], axis=-2)
    if pw:
        f = np.concatenate([f, np.full(f.shape[:-1] + (1,), np.nan)], axis=-1)
    b = f.reshape(f.shape[:-2] + (f.shape[-2] // 2, 2, f.shape[-1] // 2, 2))
    m = np.nanmean(b, axis=(-3, -1))
    if np.issubdtype(a.dtype, np.integer):
        m = np.round(m)  # half to even, as ome2zarr's mean
    return m.astype(a.dtype)


def cmd_levels(path, zarr_path, labels="", crop=""):
    labels = labels == "labels"
    out = {}
    with tifffile.TiffFile(path) as tif:
        out["bigtiff"] = tif.is_bigtiff
        out["is_ome"] = tif.is_ome
        out["pages"] = len(tif.pages)
        page = tif.pages[0]
        out["tags"] = {"compression": int(page.compression), "predictor": int(page.predictor),
                       "tile": [page.tilelength, page.tilewidth], "subifds": len(page.subifds or [])}
        series = tif.series[0]
        out["axes"] = series.axes
        levels = [lvl.asarray() for lvl in series.levels]
        out["shapes"] = [list(lvl.shape) for lvl in levels]
        root = ET.fromstring(tif.ome_metadata)
    # The OME-XML against the OME 2016-06 schema, and as ome-types models it.
    import os
    import ome_types
    import xmlschema
    xsd = xmlschema.XMLSchema(os.path.join(os.path.dirname(ome_types.__file__), "ome-2016-06.xsd"))
    errors = [str(e.reason) for e in xsd.iter_errors(ET.tostring(root, encoding="unicode"))]
    out["schema_errors"] = errors[:5]
    model = ome_types.from_tiff(path, validate=True)
    px = model.images[0].pixels
    out["model"] = {"images": len(model.images), "type": px.type.value, "size": [px.size_t, px.size_c, px.size_z, px.size_y,
                    px.size_x], "channels": [c.name for c in px.channels], "tiff_data": len(px.tiff_data_blocks)}
    ns = {"ome": "http://www.openmicroscopy.org/Schemas/OME/2016-06"}
    pixels = root.find("ome:Image/ome:Pixels", ns)
    out["pixels"] = dict(pixels.attrib)
    out["channels"] = [dict(c.attrib) for c in pixels.findall("ome:Channel", ns)]
    out["tiffdata"] = [dict(t.attrib) for t in pixels.findall("ome:TiffData", ns)]
    source = zarr.open_array(zarr_path, mode="r")[...]
    if crop:
        # A numpy index of the source (the test's crop and channel order), e.g. "[:, [2, 0], 1:3]".
        source = source[eval("np.s_" + crop)]
    # The TIFF holds planes in XYZCT order: squeeze the source to tifffile's axes.
    expected = source.reshape(levels[0].shape) if source.size == levels[0].size else None
    out["level0_equal"] = expected is not None and bool(np.array_equal(expected, levels[0]))
    diffs = []
    above = levels[0]
    for lvl in levels[1:]:
        want = halve(above, labels)
        diffs.append(None if want.shape != lvl.shape else int(np.max(np.abs(want.astype(np.float64) - lvl))))
        above = lvl
    out["level_max_diff"] = diffs
    print(json.dumps(out))


def cmd_make5d(path):
    """A 5-D (t, c, z, y, x) uint16 OME-TIFF with channel names and physical sizes."""
    rng = np.random.default_rng(5)
    data = rng.integers(0, 60000, size=(2, 3, 4, 70, 90), dtype=np.uint16)
    tifffile.imwrite(path, data, ome=True, metadata={
        "axes": "TCZYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25, "PhysicalSizeZ": 1.5,
        "TimeIncrement": 2.0, "Channel": {"Name": ["DNA", "Actin", "Tubulin"]}})
    print(json.dumps({"shape": list(data.shape)}))


def cmd_multi(path, *zarr_paths):
    """A multi-image OME-TIFF: each series against its OME-Zarr image (level 0), and the OME model
    (images, their first IFDs, the plate's wells and fields)."""
    import ome_types
    out = {}
    with tifffile.TiffFile(path) as tif:
        out["series"] = [list(s.shape) for s in tif.series]
        out["equal"] = [bool(np.array_equal(zarr.open_array(z, mode="r")[...].reshape(s.shape), s.asarray()))
                        for s, z in zip(tif.series, zarr_paths)]
    model = ome_types.from_tiff(path, validate=True)
    out["images"] = [{"name": i.name, "ifd": i.pixels.tiff_data_blocks[0].ifd} for i in model.images]
    out["plates"] = [{"rows": p.rows, "columns": p.columns,
                      "wells": [[w.row, w.column, [s.image_ref.id for s in w.well_samples]] for w in p.wells]}
                     for p in model.plates]
    print(json.dumps(out))


def cmd_make_series(path):
    """A two-series OME-TIFF (different sizes)."""
    rng = np.random.default_rng(7)
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(rng.integers(0, 4000, size=(3, 40, 50), dtype=np.uint16), metadata={"axes": "ZYX", "Name": "first"})
        tif.write(rng.integers(0, 4000, size=(2, 30, 20), dtype=np.uint16), metadata={"axes": "ZYX", "Name": "second"})
    print(json.dumps({}))


def cmd_make_labels(image, labels):
    """A 4 x 70 x 90 uint16 image and its uint32 label image (blocks of labels, ties at the edges)."""
    rng = np.random.default_rng(11)
    tifffile.imwrite(image, rng.integers(0, 1000, size=(4, 70, 90), dtype=np.uint16), ome=True, metadata={"axes": "ZYX"})
    y, x = np.mgrid[0:70, 0:90]
    plane = ((y // 7) * 13 + (x // 5)).astype(np.uint32) + 1
    tifffile.imwrite(labels, np.stack([plane + 1000 * z for z in range(4)]), ome=True, metadata={"axes": "ZYX"})
    print(json.dumps({}))


def cmd_enrich(xml_path):
    """Adds an instrument (referenced by the second image) and a description to a METADATA.ome.xml,
    as an original file would hold, to see them carried over."""
    text = open(xml_path, encoding="utf-8").read()
    head_end = text.index(">", text.index("<OME")) + 1
    text = text[:head_end] + '<Instrument ID="Instrument:0"><Microscope Manufacturer="Lab scope"/></Instrument>' + text[head_end:]
    second = text.index("<Image", text.index("<Image") + 1)
    pixels = text.index("<Pixels", second)
    text = text[:pixels] + '<Description>the second series</Description><InstrumentRef ID="Instrument:0"/>' + text[pixels:]
    open(xml_path, "w", encoding="utf-8").write(text)
    print(json.dumps({}))


def cmd_carried(path):
    """What an export's OME-XML kept of the original: images, instrument, description, sizes."""
    import ome_types
    model = ome_types.from_tiff(path, validate=True)
    print(json.dumps({
        "images": [{"id": i.id, "name": i.name, "description": i.description,
                    "instrument": i.instrument_ref.id if i.instrument_ref else None,
                    "size": [i.pixels.size_z, i.pixels.size_y, i.pixels.size_x], "order": i.pixels.dimension_order.value,
                    "tiff_data": [[t.ifd, t.plane_count] for t in i.pixels.tiff_data_blocks],
                    "channels": [c.name for c in i.pixels.channels]} for i in model.images],
        "instruments": [m.microscope.manufacturer for m in model.instruments if m.microscope],
        # XML 1.0 forbids control characters, even as references (parsers that recover hide them).
        "control_characters": any(c in tifffile.TiffFile(path).ome_metadata for c in ("\x01", "&#1;", "&#x1;"))}))


def cmd_relabel(group_path, label_json):
    """Sets the first omero channel label of an OME-Zarr 0.5 image to LABEL_JSON (a JSON string)."""
    meta_path = os.path.join(group_path, "zarr.json")
    meta = json.load(open(meta_path))
    meta["attributes"]["ome"]["omero"]["channels"][0]["label"] = json.loads(label_json)
    json.dump(meta, open(meta_path, "w"))
    print(json.dumps({}))


def cmd_psnr(path, original, converted):
    """PSNR (dB) of a lossy export's level 0 against the original TIFF, as tifffile decodes it and
    as libtiff did for `ome2zarr convert` (CONVERTED is that conversion's level 0)."""
    def psnr(a, b):
        mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
        return 99.0 if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))
    def zyxc(a):  # the original's (z, y, x, samples); channels first otherwise
        return a if a.shape[-1] in (3, 4) else np.moveaxis(a, 0, -1)
    with tifffile.TiffFile(path) as tif, tifffile.TiffFile(original) as orig:
        ours, want = zyxc(tif.series[0].asarray()), orig.series[0].asarray()
        out = {"compression": int(tif.pages[0].compression), "tifffile": psnr(ours, want)}
    out["libtiff"] = psnr(zyxc(zarr.open_array(converted, mode="r")[...]), want)
    print(json.dumps(out))


def cmd_stored(path, image):
    """Whether each resolution of the file equals the OME-Zarr image's level of the same index."""
    group = zarr.open_group(image, mode="r")
    with tifffile.TiffFile(path) as tif:
        levels = [lvl.asarray() for lvl in tif.series[0].levels]
    out = []
    for k, lvl in enumerate(levels):
        if str(k) in group:
            a = group[str(k)][...]
            out.append(bool(a.shape == lvl.shape and np.array_equal(a, lvl)))
    print(json.dumps({"equal": out, "levels": len(levels)}))


def cmd_make_rgb(path):
    """An RGB TIFF (Photometric RGB, 3 samples per pixel), 2 planes of 60 x 70: smooth colours, as a
    stained section, with some noise."""
    rng = np.random.default_rng(3)
    z, y, x = np.mgrid[:2, :60, :70]
    colours = np.stack([128 + 100 * np.sin(x / 9 + z), 128 + 90 * np.cos(y / 7), 128 + 80 * np.sin((x + y) / 11)], -1)
    pixels = np.clip(colours + rng.normal(0, 4, colours.shape), 0, 255).astype(np.uint8)
    tifffile.imwrite(path, pixels, photometric="rgb")
    print(json.dumps({}))


def cmd_rgb(path, original):
    """An exported RGB OME-TIFF: photometric, samples, the pixels against the original TIFF's."""
    import ome_types
    with tifffile.TiffFile(path) as tif, tifffile.TiffFile(original) as orig:
        page = tif.pages[0]
        levels = tif.series[0].levels
        subsampling = page.tags.get(530)
        out = {"photometric": int(page.photometric), "samples": page.samplesperpixel, "planar": int(page.planarconfig),
               "subsampling": list(subsampling.value) if subsampling else None, "shapes": [list(lvl.shape) for lvl in levels],
               "equal": bool(np.array_equal(levels[0].asarray(), orig.series[0].asarray()))}
    model = ome_types.from_tiff(path, validate=True)
    px = model.images[0].pixels
    out["ome"] = {"size_c": px.size_c, "interleaved": px.interleaved,
                  "channels": [c.samples_per_pixel for c in px.channels]}
    print(json.dumps(out))


def cmd_imagej(path, zarr_path):
    """An ImageJ hyperstack: its metadata as tifffile reads it, and its planes against the source."""
    with tifffile.TiffFile(path) as tif:
        out = {"is_imagej": tif.is_imagej, "bigtiff": tif.is_bigtiff, "pages": len(tif.pages),
               "metadata": {k: v for k, v in (tif.imagej_metadata or {}).items() if isinstance(v, (int, float, str, bool))},
               "axes": tif.series[0].axes, "shape": list(tif.series[0].shape),
               "compression": int(tif.pages[0].compression), "resolution": list(tif.pages[0].get_resolution())}
        data = tif.series[0].asarray()
    source = zarr.open_array(zarr_path, mode="r")[...]
    # NGFF t, c, z, y, x -> ImageJ T, Z, C, Y, X.
    out["equal"] = bool(np.array_equal(np.transpose(source, (0, 2, 1, 3, 4)).reshape(data.shape), data))
    print(json.dumps(out))


def big_plane(z, n):
    """Plane z of the sparse image: a pattern for the planes written, zeros elsewhere."""
    if z not in (0, 33, 64):
        return np.zeros((n, n), np.uint8)
    y, x = np.ogrid[:n, :n]
    return ((x * (z + 1) + y * 7 + z) % 251).astype(np.uint8)


def cmd_make_big(path):
    """A 65 x 8192 x 8192 uint8 OME-Zarr image (4.06 GiB) with only planes 0, 33 and 64 stored."""
    n = 8192
    group = zarr.open_group(path, mode="w", zarr_format=3)
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": [
        {"name": "z", "type": "space", "unit": "micrometer"}, {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [2.0, 0.5, 0.5]}]}]}]}
    array = group.create_array("0", shape=(65, n, n), chunks=(1, 1024, 1024), dtype="uint8", fill_value=0,
                               dimension_names=["z", "y", "x"])
    for z in (0, 33, 64):
        array[z] = big_plane(z, n)
    print(json.dumps({"bytes": 65 * n * n}))


def cmd_imagej_big(path):
    """An ImageJ hyperstack above 4 GiB: one directory, and planes 0, 32, 33 and 64 (past 4 GiB) as written."""
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        out = {"is_imagej": tif.is_imagej, "bigtiff": tif.is_bigtiff, "pages": len(tif.pages), "axes": series.axes,
               "shape": list(series.shape), "images": (tif.imagej_metadata or {}).get("images")}
        offset = series.dataoffset
    n = out["shape"][-1]
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=tuple(out["shape"]))
    out["planes_equal"] = [bool(np.array_equal(data[z], big_plane(z, n))) for z in (0, 32, 33, 64)]
    out["last_plane_offset"] = offset + 64 * n * n
    print(json.dumps(out))


if __name__ == "__main__":
    {"levels": cmd_levels, "make5d": cmd_make5d, "imagej": cmd_imagej, "multi": cmd_multi, "make_series": cmd_make_series, "make_rgb": cmd_make_rgb, "psnr": cmd_psnr, "stored": cmd_stored, "make_labels": cmd_make_labels, "enrich": cmd_enrich, "carried": cmd_carried, "rgb": cmd_rgb, "make_big": cmd_make_big, "relabel": cmd_relabel, "imagej_big": cmd_imagej_big}[sys.argv[1]](*sys.argv[2:])

"""Zipped OME-Zarr (.ozx, RFC-9) interop driver.

  ozx_peers.py write DIR        ngff-zarr (and ome-zarr-py, zipped by ngff-zarr) write image.ozx, plate.ozx and
                                labels.ozx into DIR; DIR/<name>.json describes what zarr-python reads from each
  ozx_peers.py read ARCHIVE OUT what zarr-python and ngff-zarr read from ARCHIVE (written by ome2zarr): OUT/read.json
                                plus OUT/<n>.bin per array, and the archive's RFC-9 structure checks

A description: {"nodes": {path: {"node_type", "attributes", ["shape", "dtype", "bin", "zarr_json"]}},
                "ngff": {"levels": [[shape]...], "dims": [...], "scale": {...}, "bins": [...]} }
"""
import json
import os
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import zarr

warnings.simplefilter("ignore")


def sample(shape, dtype="uint16", seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4000, size=shape).astype(dtype)


def save(out, name, arr):
    arr = np.ascontiguousarray(arr)
    arr.astype(arr.dtype.newbyteorder("<")).tofile(os.path.join(out, name))
    return name


def describe_zarr(archive, out, tag):
    """Every node zarr-python's ZipStore finds in the archive: groups with attributes, arrays with data."""
    store = zarr.storage.ZipStore(archive, mode="r")
    root = zarr.open_group(store, mode="r")
    nodes = {}
    zf = zipfile.ZipFile(archive)

    def raw(path):
        return json.loads(zf.read((path + "/" if path else "") + "zarr.json"))

    nodes[""] = {"node_type": "group", "attributes": dict(root.attrs), "zarr_json": raw("")}
    for i, (path, node) in enumerate(sorted(root.members(max_depth=None), key=lambda m: m[0])):
        entry = {"node_type": "group" if isinstance(node, zarr.Group) else "array",
                 "attributes": dict(node.attrs), "zarr_json": raw(path)}
        if entry["node_type"] == "array":
            data = node[...]
            entry.update(shape=list(data.shape), dtype=data.dtype.newbyteorder("<").str,
                         bin=save(out, f"{tag}_{i}.bin", data))
        nodes[path] = entry
    store.close()
    return nodes


def describe_ngff(archive, out, tag):
    """What ngff-zarr's from_ngff_zarr reads: levels, dims, scale, level data."""
    import ngff_zarr as nz
    ms = nz.from_ngff_zarr(archive)
    res = {"levels": [list(im.data.shape) for im in ms.images], "dims": list(ms.images[0].dims),
           "scale": {k: float(v) for k, v in ms.images[0].scale.items()},
           "translation": {k: float(v) for k, v in ms.images[0].translation.items()},
           "version": getattr(ms.metadata, "version", None), "bins": []}
    for i, im in enumerate(ms.images):
        res["bins"].append(save(out, f"{tag}_ngff_{i}.bin", np.asarray(im.data)))
    return res


def cmd_write(d):
    import ngff_zarr as nz
    from ngff_zarr.hcs import HCSPlateWriter
    from ngff_zarr.rfc9_zip import write_store_to_zip

    os.makedirs(d, exist_ok=True)
    # An image: ngff-zarr straight to .ozx (sharded, 2 chunks per shard by default).
    vol = sample((12, 64, 48), dtype="int16", seed=3)
    image = nz.to_ngff_image(vol, dims=["z", "y", "x"], scale={"z": 3.0, "y": 0.7, "x": 0.7},
                             translation={"z": 10.0, "y": 5.0, "x": 0.0},
                             axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"})
    ms = nz.to_multiscales(image, scale_factors=[2], chunks=16)
    nz.to_ngff_zarr(os.path.join(d, "image.ozx"), ms, version="0.5")
    save(d, "image_source.bin", vol)

    # A plate: ngff-zarr's HCSPlateWriter (2 wells, 1 field each).
    plate = nz.Plate(
        columns=[nz.PlateColumn(name="1"), nz.PlateColumn(name="2")],
        rows=[nz.PlateRow(name="A")],
        wells=[nz.PlateWell(path="A/1", rowIndex=0, columnIndex=0), nz.PlateWell(path="A/2", rowIndex=0, columnIndex=1)],
        name="ozx plate", field_count=1, version="0.5")
    with HCSPlateWriter(os.path.join(d, "plate.ozx"), plate) as writer:
        for col, seed in (("1", 5), ("2", 6)):
            field = nz.to_multiscales(nz.to_ngff_image(sample((32, 32), seed=seed), dims=["y", "x"]), scale_factors=[2], chunks=16)
            writer.write_well_image(multiscales=field, row_name="A", column_name=col, field_index=0)

    # An image with labels: ome-zarr-py writes a directory, ngff-zarr zips it.
    from ome_zarr.format import FormatV05
    from ome_zarr.writer import write_image, write_labels
    src = os.path.join(d, "labels_src.zarr")
    root = zarr.open_group(src, mode="w", zarr_format=3)
    img = sample((2, 32, 40), seed=1)
    write_image(img, root, scale_factors=[2], axes="cyx", fmt=FormatV05())
    write_labels((img[:1] > 2000).astype("uint8"), root, name="mask", axes="cyx", fmt=FormatV05(), scale_factors=[2],
                 label_metadata={"colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]}]})
    write_store_to_zip(src, os.path.join(d, "labels.ozx"), version="0.5")

    for name in ("image", "plate", "labels"):
        archive = os.path.join(d, name + ".ozx")
        desc = {"nodes": describe_zarr(archive, d, name), "comment": json.loads(zipfile.ZipFile(archive).comment or b"null")}
        if name == "image":
            desc["ngff"] = describe_ngff(archive, d, name)
        json.dump(desc, open(os.path.join(d, name + ".json"), "w"), indent=1)
    print("ok")


def structure(archive):
    """RFC-9 structure checks of an archive."""
    res = {}
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        res["testzip"] = zf.testzip()
        names = [i.filename for i in infos]
        res["central_order"] = names
        res["first_central"] = names[0]
        res["first_local"] = min(infos, key=lambda i: i.header_offset).filename
        res["first_local_offset"] = min(i.header_offset for i in infos)
        res["all_stored"] = all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        res["methods"] = sorted({i.compress_type for i in infos})
        meta = [n for n in names if n == "zarr.json" or n.endswith("/zarr.json")]
        res["json_first"] = names[:len(meta)] == meta
        depths = [n.count("/") for n in meta]
        res["json_breadth_first"] = depths == sorted(depths) and meta[0] == "zarr.json"
        res["duplicates"] = len(names) != len(set(names))
        try:
            res["comment"] = json.loads(zf.comment.decode("utf-8"))
        except Exception as e:  # noqa: BLE001
            res["comment"] = f"not JSON: {e}"
    data = open(archive, "rb").read()
    eocd = data.rfind(b"PK\x05\x06")
    res["eocd64"] = eocd >= 76 and data[eocd - 20:eocd - 16] == b"PK\x06\x07" and data[eocd - 76:eocd - 72] == b"PK\x06\x06"
    u = subprocess.run(["unzip", "-t", archive], capture_output=True, text=True)
    res["unzip_status"] = u.returncode
    res["unzip_tail"] = u.stdout.strip().splitlines()[-1] if u.stdout.strip() else u.stderr
    return res


def cmd_read(archive, out):
    os.makedirs(out, exist_ok=True)
    res = {"nodes": describe_zarr(archive, out, "ours"), "ngff": describe_ngff(archive, out, "ours"),
           "structure": structure(archive)}
    json.dump(res, open(os.path.join(out, "read.json"), "w"), indent=1)
    print("ok")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        cmd_write(sys.argv[2])
    elif sys.argv[1] == "read":
        cmd_read(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")

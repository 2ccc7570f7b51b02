"""OME-Zarr interop driver: ome-zarr-py and ngff-zarr write images, labels and plates for ZarrIO/OMEZarr
to open; ome-zarr-models and ome-zarr-py check what OMEZarr wrote.

  ome_peers.py write DIR   write the peer fixtures, DIR/manifest.json describes what to expect
  ome_peers.py check DIR   check every entry of DIR/manifest.json (written by OMEZarr); print a JSON report
"""
import json
import os
import sys
import warnings

import numpy as np
import zarr


def sample(shape, dtype="uint16", seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4000, size=shape).astype(dtype)


def save_bin(d, name, arr):
    arr = np.ascontiguousarray(arr)
    arr.astype(arr.dtype.newbyteorder("<")).tofile(os.path.join(d, name + ".bin"))


def cmd_write(d):
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image, write_labels, write_plate_metadata, write_well_metadata
    import ngff_zarr as nz

    os.makedirs(d, exist_ok=True)
    cases = []

    def add(name, kind, version, data=None, levels=None, axes=None, **extra):
        entry = {"name": name, "path": name + ".zarr", "kind": kind, "version": version, **extra}
        if data is not None:
            save_bin(d, name, data)
            entry.update(dtype=data.dtype.newbyteorder("<").str, shape=list(data.shape))
        if levels is not None:
            entry["levels"] = levels
        if axes is not None:
            entry["axes"] = axes
        cases.append(entry)

    img = sample((2, 16, 128, 96), seed=1)
    for fmt, v in ((FormatV04(), "0.4"), (FormatV05(), "0.5")):
        name = f"omezarrpy_image_{v.replace('.', '')}"
        root = zarr.open_group(os.path.join(d, name + ".zarr"), mode="w", zarr_format=2 if v == "0.4" else 3)
        write_image(img, root, scale_factors=[2, 4], axes="czyx", fmt=fmt,
                    scale={"c": 1.0, "z": 2.0, "y": 0.5, "x": 0.5}, axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"})
        labels = (img[:1] > 2000).astype("uint8")
        write_labels(labels, root, name="mask", axes="czyx", fmt=fmt, scale_factors=[2, 4], scaler=None,
                     label_metadata={"colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]}],
                                     "properties": [{"label-value": 1, "class": "bright"}]})
        add(name, "image", v, data=img, levels=3, axes=["c", "z", "y", "x"], labels=["mask"],
            scale0=[1.0, 2.0, 0.5, 0.5])
        save_bin(d, name + "_mask", labels)
        cases.append({"name": name + "_mask", "path": name + ".zarr/labels/mask", "kind": "label-image", "version": v,
                      "dtype": "|u1", "shape": list(labels.shape), "levels": 3})
        # A plate: 2 rows x 3 columns, 2 wells with 2 fields each.
        pname = f"omezarrpy_plate_{v.replace('.', '')}"
        proot = zarr.open_group(os.path.join(d, pname + ".zarr"), mode="w", zarr_format=2 if v == "0.4" else 3)
        wells = ["A/1", "B/3"]
        write_plate_metadata(proot, ["A", "B"], ["1", "2", "3"], wells, fmt=fmt, name="test plate", field_count=2,
                             acquisitions=[{"id": 0, "name": "first"}])
        for w in wells:
            wg = proot.require_group(w)
            write_well_metadata(wg, [{"path": "0", "acquisition": 0}, {"path": "1", "acquisition": 0}], fmt=fmt)
            for f in ("0", "1"):
                write_image(sample((32, 32), seed=7), wg.require_group(f), scale_factors=[2], axes="yx", fmt=fmt)
        add(pname, "plate", v, rows=["A", "B"], columns=["1", "2", "3"], wells=wells, field_count=2)
    # ngff-zarr, 0.4 and 0.5 (a 3-D image with physical scale and translation).
    vol = sample((20, 64, 48), dtype="int16", seed=3)
    for v in ("0.4", "0.5"):
        name = f"ngffzarr_image_{v.replace('.', '')}"
        image = nz.to_ngff_image(vol, dims=["z", "y", "x"], scale={"z": 3.0, "y": 0.7, "x": 0.7},
                                 translation={"z": 10.0, "y": 5.0, "x": 0.0}, axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"})
        ms = nz.to_multiscales(image, scale_factors=[2], chunks=16)
        nz.to_ngff_zarr(os.path.join(d, name + ".zarr"), ms, version=v)
        add(name, "image", v, data=vol, levels=2, axes=["z", "y", "x"], scale0=[3.0, 0.7, 0.7], translation0=[10.0, 5.0, 0.0])
    json.dump(cases, open(os.path.join(d, "manifest.json"), "w"), indent=1)
    print(len(cases))


def cmd_check(d):
    from ome_zarr_models import open_ome_zarr
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    manifest = json.load(open(os.path.join(d, "manifest.json")))
    report = {}
    for case in manifest:
        path = os.path.join(d, case["path"])
        res = {}
        # ngff-zarr: the official JSON schema of the version (bundled in ngff-zarr).
        try:
            import ngff_zarr as nz
            attrs = dict(zarr.open_group(path, mode="r").attrs)
            model = {"image": "image", "label-image": "label", "plate": "plate", "well": "well"}[case["kind"]]
            nz.validate(attrs, version=case["version"], model=model, strict=False)
            res["ngff-zarr-schema"] = "ok"
        except Exception as e:  # noqa: BLE001
            res["ngff-zarr-schema"] = f"{type(e).__name__}: {e}"[:600]
        if case["version"].startswith(("0.6", "0.9")):
            # ome-zarr-models and ome-zarr-py do not read 0.6 (RFC-5) or 0.9.dev yet: open the levels
            # with ngff-zarr (0.9.dev1 is its opt-in 0.9 model, RFC-3 and RFC-4 included).
            if case["kind"] == "image":
                try:
                    ms = nz.from_ngff_zarr(path)
                    shapes = [list(im.data.shape) for im in ms.images]
                    res["ngff-zarr"] = "ok" if shapes == case["shapes"] else f"shapes {shapes}"
                    if "orientation" in case:
                        # The orientation ngff-zarr read back, by axis name.
                        attrs = dict(zarr.open_group(path, mode="r").attrs)
                        axes = attrs["ome"]["multiscales"][0]["coordinateSystems"][0]["axes"]
                        got = {a["name"]: a["orientation"]["value"] for a in axes if "orientation" in a}
                        if got != case["orientation"]:
                            res["ngff-zarr"] = f"orientation {got}"
                except Exception as e:  # noqa: BLE001
                    res["ngff-zarr"] = f"{type(e).__name__}: {e}"[:600]
            report[case["name"]] = res
            continue
        # ome-zarr-models: validate the node (and raise on any warning).
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                grp = zarr.open_group(path, mode="r")
                model = open_ome_zarr(grp)
            res["ome-zarr-models"] = "ok:" + type(model).__name__
        except Exception as e:  # noqa: BLE001
            res["ome-zarr-models"] = f"{type(e).__name__}: {e}"[:600]
        # ome-zarr-py's reader: levels and level-0 data.
        if case["kind"] in ("image", "label-image"):
            try:
                nodes = list(Reader(parse_url(path))())
                # The reader also yields the label's parent image: take the node at this path.
                node = next(n for n in nodes if str(n.zarr).split(" [")[0].rstrip("/") == path.rstrip("/"))
                shapes = [list(x.shape) for x in node.data]
                ok = len(node.data) == case["levels"] and shapes == case["shapes"]
                if ok and "bin" in case:
                    want = np.fromfile(os.path.join(d, case["bin"]), dtype=np.dtype(case["dtype"])).reshape(case["shapes"][0])
                    got = np.asarray(node.data[0])
                    ok = got.dtype.newbyteorder("<") == want.dtype and np.array_equal(got, want)
                res["ome-zarr-py"] = "ok" if ok else f"levels {len(node.data)} shapes {shapes}"
            except Exception as e:  # noqa: BLE001
                res["ome-zarr-py"] = f"{type(e).__name__}: {e}"[:600]
        if case["kind"] == "plate":
            try:
                nodes = list(Reader(parse_url(path))())
                plate = nodes[0].metadata
                res["ome-zarr-py"] = "ok" if nodes[0].specs and len(nodes) >= 1 else "no plate"
            except Exception as e:  # noqa: BLE001
                res["ome-zarr-py"] = f"{type(e).__name__}: {e}"[:600]
        report[case["name"]] = res
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    {"write": cmd_write, "check": cmd_check}[sys.argv[1]](sys.argv[2])

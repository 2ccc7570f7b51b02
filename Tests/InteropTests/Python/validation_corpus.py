"""Validation corpus: valid OME-Zarr from several writers plus mutations that each break one rule,
judged by the peers (ome-zarr-models and the official NGFF JSON schemas bundled in ngff-zarr).

  validation_corpus.py write DIR   write DIR/<case>.zarr for every case and DIR/manifest.json:
                                   [{"name", "path", "version", "kind", "expect": "valid" | rule id,
                                     "schema_level": bool, "peers": {"schema": verdict, "ome-zarr-models": verdict}}]
A verdict is "valid" or "invalid: <first line of the peer's message>".
"""
import copy
import glob
import json
import os
import shutil
import sys
import warnings

import numpy as np
import zarr


def sample(shape, dtype="uint16", seed=0):
    return np.random.default_rng(seed).integers(0, 4000, size=shape).astype(dtype)


def attrs_path(path):
    z3 = os.path.join(path, "zarr.json")
    return (z3, True) if os.path.exists(z3) else (os.path.join(path, ".zattrs"), False)


def load_ome(path):
    p, v3 = attrs_path(path)
    doc = json.load(open(p))
    return doc, (doc["attributes"]["ome"] if v3 else doc), p


def mutate(path, fn):
    doc, ome, p = load_ome(path)
    fn(ome)
    json.dump(doc, open(p, "w"), indent=1)


def write_valid(d):
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_image, write_labels, write_plate_metadata, write_well_metadata
    import ngff_zarr as nz

    out = []
    img = sample((2, 8, 64, 48), seed=1)
    for fmt, v in ((FormatV04(), "0.4"), (FormatV05(), "0.5")):
        tag = v.replace(".", "")
        name = f"omezarrpy_image_{tag}"
        root = zarr.open_group(os.path.join(d, name + ".zarr"), mode="w", zarr_format=2 if v == "0.4" else 3)
        write_image(img, root, scale_factors=[2, 4], axes="czyx", fmt=fmt,
                    scale={"c": 1.0, "z": 2.0, "y": 0.5, "x": 0.5},
                    axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"})
        write_labels((img[:1] > 2000).astype("uint8"), root, name="mask", axes="czyx", fmt=fmt, scale_factors=[2, 4],
                     scaler=None, label_metadata={"colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]},
                                                            {"label-value": 0, "rgba": [0, 0, 0, 0]}]})
        if v == "0.5":
            # ome-zarr-py 0.18 writes the 0.5 labels group without "version" (a MUST): keep that copy as a
            # case of its own and repair the one the mutations start from.
            shutil.copytree(os.path.join(d, name + ".zarr"), os.path.join(d, name + "_unrepaired.zarr"))
            mutate(os.path.join(d, name + ".zarr", "labels"), lambda o: o.__setitem__("version", "0.5"))
        out.append((name, v, "image"))
        pname = f"omezarrpy_plate_{tag}"
        proot = zarr.open_group(os.path.join(d, pname + ".zarr"), mode="w", zarr_format=2 if v == "0.4" else 3)
        wells = ["A/1", "B/3"]
        write_plate_metadata(proot, ["A", "B"], ["1", "2", "3"], wells, fmt=fmt, name="plate", field_count=1,
                             acquisitions=[{"id": 0, "name": "first"}])
        for w in wells:
            wg = proot.require_group(w)
            write_well_metadata(wg, [{"path": "0", "acquisition": 0}], fmt=fmt)
            write_image(sample((32, 32), seed=7), wg.require_group("0"), scale_factors=[2], axes="yx", fmt=fmt)
        out.append((pname, v, "plate"))
    vol = sample((10, 32, 24), dtype="int16", seed=3)
    for v in ("0.4", "0.5"):
        name = f"ngffzarr_image_{v.replace('.', '')}"
        image = nz.to_ngff_image(vol, dims=["z", "y", "x"], scale={"z": 3.0, "y": 0.7, "x": 0.7},
                                 translation={"z": 10.0, "y": 5.0, "x": 0.0},
                                 axes_units={"z": "micrometer", "y": "micrometer", "x": "micrometer"})
        nz.to_ngff_zarr(os.path.join(d, name + ".zarr"), nz.to_multiscales(image, scale_factors=[2], chunks=16), version=v)
        out.append((name, v, "image"))
    return out


def ms(o):
    return o["multiscales"][0]


def set_first_array_dimnames(path, names):
    doc, ome, _ = load_ome(path)
    p = os.path.join(path, ms(ome)["datasets"][0]["path"], "zarr.json")
    doc = json.load(open(p))
    doc["dimension_names"] = names
    json.dump(doc, open(p, "w"))


# (name, base case, rule id, schema_level, change(ome, path))
MUTATIONS = [
    ("one_axis", "image", "axes.count", True, lambda o, p: ms(o).__setitem__("axes", [{"name": "x", "type": "space"}])),
    ("duplicate_axis_name", "image", "axes.unique-names", False,
     lambda o, p: ms(o)["axes"][1].__setitem__("name", "x")),
    ("axes_out_of_order", "image", "axes.order", False,
     lambda o, p: ms(o).__setitem__("axes", [ms(o)["axes"][i] for i in (1, 0, 2, 3)])),
    ("two_scales", "image", "transforms.scale-count", True,
     lambda o, p: ms(o)["datasets"][0]["coordinateTransformations"].append({"type": "scale", "scale": [1, 1, 1, 1]})),
    ("translation_first", "image", "transforms.order", False,
     lambda o, p: ms(o)["datasets"][0].__setitem__("coordinateTransformations",
                                                   [{"type": "translation", "translation": [0, 0, 0, 0]}] +
                                                   ms(o)["datasets"][0]["coordinateTransformations"])),
    ("short_scale", "image", "transforms.length", False,
     lambda o, p: ms(o)["datasets"][0]["coordinateTransformations"][0].__setitem__("scale", [2.0, 0.5, 0.5])),
    ("no_datasets", "image", "datasets.empty", True, lambda o, p: ms(o).__setitem__("datasets", [])),
    ("missing_level", "image", "level.missing", False, lambda o, p: ms(o)["datasets"][1].__setitem__("path", "nothing")),
    ("levels_reversed", "image", "levels.scale-order", False,
     lambda o, p: ms(o).__setitem__("datasets", list(reversed(ms(o)["datasets"])))),
    ("omero_without_channels", "image", "omero.channels", True, lambda o, p: o.__setitem__("omero", {"name": "x"})),
    ("label_values_repeat", "label", "label.unique-values", False,
     lambda o, p: o["image-label"]["colors"][1].__setitem__("label-value", 1)),
    ("well_index_disagrees", "plate", "plate.well-index", False,
     lambda o, p: o["plate"]["wells"][0].__setitem__("rowIndex", 1)),
    ("row_name_pattern", "plate", "plate.name-pattern", True, lambda o, p: o["plate"]["rows"][0].__setitem__("name", "A-1")),
    ("well_path_pattern", "plate", "plate.well-path", True, lambda o, p: o["plate"]["wells"][0].__setitem__("path", "A/1/x")),
]
MUTATIONS_05 = [
    ("no_version", "image", "version.missing", True, lambda o, p: o.pop("version")),
    ("dimension_names_differ", "image", "level.dimension-names", False,
     lambda o, p: set_first_array_dimnames(p, ["c", "z", "y", "w"])),
]


def schema_verdict(path, version, kind):
    """Validates the node's attributes against the official schema of its kind (from ngff-zarr's bundle)."""
    import jsonschema
    import ngff_zarr
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    base = os.path.join(os.path.dirname(ngff_zarr.__file__), "spec", version, "schemas")
    resources = []
    for f in glob.glob(os.path.join(base, "*.schema")):
        s = json.load(open(f))
        resources.append((s["$id"], Resource.from_contents(s, default_specification=DRAFT202012)))
    registry = Registry().with_resources(resources)
    name = {"image": "image", "label": "label", "plate": "plate", "well": "well"}[kind]
    schema = json.load(open(os.path.join(base, name + ".schema")))
    p, v3 = attrs_path(path)
    attrs = json.load(open(p))
    if v3:
        attrs = attrs.get("attributes", {})
    errors = sorted(jsonschema.Draft202012Validator(schema, registry=registry).iter_errors(attrs), key=lambda e: e.path)
    return "valid" if not errors else "invalid: " + errors[0].message.splitlines()[0][:300]


def project_schema_verdict(path, version):
    """Validates the node's attributes against this project's schema (Schemas/ngff-<version>.schema.json)."""
    import jsonschema
    here = os.path.dirname(os.path.abspath(__file__))
    schema = json.load(open(os.path.join(here, "..", "..", "..", "Schemas", f"ngff-{version}.schema.json")))
    p, v3 = attrs_path(path)
    attrs = json.load(open(p))
    if v3:
        attrs = attrs.get("attributes", {})
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(attrs), key=lambda e: e.path)
    return "valid" if not errors else "invalid: " + errors[0].message.splitlines()[0][:300]


def models_verdict(path):
    from ome_zarr_models import open_ome_zarr
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            open_ome_zarr(zarr.open_group(path, mode="r"))
        return "valid"
    except Exception as e:  # noqa: BLE001
        return "invalid: " + (str(e).splitlines() or [type(e).__name__])[0][:300]


def cmd_write(d):
    os.makedirs(d, exist_ok=True)
    cases = []
    valid = write_valid(d)
    for name, v, kind in valid:
        cases.append({"name": name, "path": name + ".zarr", "version": v, "kind": kind, "expect": "valid", "schema_level": False})
        if os.path.exists(os.path.join(d, name + "_unrepaired.zarr")):
            cases.append({"name": name + "_unrepaired", "path": name + "_unrepaired.zarr", "version": v, "kind": kind,
                          "expect": "version.missing", "schema_level": False})
        if name.startswith("omezarrpy_image"):
            cases.append({"name": name + "_mask", "path": name + ".zarr/labels/mask", "version": v, "kind": "label",
                          "expect": "valid", "schema_level": False})
    for v in ("0.4", "0.5"):
        tag = v.replace(".", "")
        for (mname, base, rule, schema_level, change) in MUTATIONS + (MUTATIONS_05 if v == "0.5" else []):
            src = f"omezarrpy_{'plate' if base == 'plate' else 'image'}_{tag}.zarr"
            name = f"{mname}_{tag}"
            shutil.copytree(os.path.join(d, src), os.path.join(d, name + ".zarr"))
            path = os.path.join(d, name + ".zarr")
            node = os.path.join(path, "labels", "mask") if base == "label" else path
            mutate(node, lambda o: change(o, node))
            rel = name + ".zarr" + ("/labels/mask" if base == "label" else "")
            cases.append({"name": name, "path": rel, "version": v, "kind": base, "expect": rule, "schema_level": schema_level})
    for c in cases:
        path = os.path.join(d, c["path"])
        c["peers"] = {"schema": schema_verdict(path, c["version"], c["kind"]), "ome-zarr-models": models_verdict(path),
                      "project-schema": project_schema_verdict(path, c["version"])}
    json.dump(cases, open(os.path.join(d, "manifest.json"), "w"), indent=1)
    print(len(cases))


if __name__ == "__main__":
    {"write": cmd_write}[sys.argv[1]](sys.argv[2])

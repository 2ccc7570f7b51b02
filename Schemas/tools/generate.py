"""Generates the NGFF metadata schemas in Schemas/ (one per version family) from shared pieces.

  python3 Schemas/tools/generate.py      # rewrites Schemas/ngff-0.4.schema.json, -0.5, -0.6

Each schema classifies first: the node kind is chosen by its keys (plate, well, bioformats2raw.layout,
multiscales + image-label, multiscales, labels, series), and only that kind's rules apply, which keeps
error reports short. Rules JSON Schema cannot express (axis order, unique names, transformation order,
hierarchy checks) are left to `ome2zarr validate`.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = "https://github.com/ome-zarr-swift/ome-zarr-swift/Schemas/"

NAME = r"^[A-Za-z0-9]+$"


def axis(strict_types):
    return {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "type": {"type": "string"},
            "unit": {"type": "string"},
        },
    }


def axes():
    return {
        "type": "array", "minItems": 2, "maxItems": 5, "uniqueItems": True,
        "items": {"$ref": "#/$defs/axis"},
        "contains": {"type": "object", "required": ["type"], "properties": {"type": {"const": "space"}}},
        "minContains": 2, "maxContains": 3,
    }


def vector(key):
    return {
        "type": "object", "required": ["type", key],
        "properties": {"type": {"const": key}, key: {"type": "array", "minItems": 2, "items": {"type": "number"}}},
    }


def scale_translation():
    return {
        "type": "array", "minItems": 1, "maxItems": 2,
        "prefixItems": [{"$ref": "#/$defs/scale"}],
        "items": {"$ref": "#/$defs/translation"},
    }


def omero(v04):
    channel = {
        "type": "object",
        "properties": {
            "color": {"type": "string", "pattern": "^[0-9A-Fa-f]{6}$"},
            "window": {
                "type": "object", "required": ["min", "max", "start", "end"],
                "properties": {k: {"type": "number"} for k in ("min", "max", "start", "end")},
            },
            "label": {"type": "string"}, "family": {"type": "string"},
            "active": {"type": "boolean"}, "inverted": {"type": "boolean"},
            "coefficient": {"type": "number"},
        },
    }
    if v04:
        channel["required"] = ["color", "window"]
    return {"type": "object", "required": ["channels"], "properties": {"channels": {"type": "array", "items": channel}}}


def image_label():
    entry_color = {
        "type": "object", "required": ["label-value"],
        "properties": {
            "label-value": {"type": "integer"},
            "rgba": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "integer", "minimum": 0, "maximum": 255}},
        },
    }
    entry_prop = {"type": "object", "required": ["label-value"], "properties": {"label-value": {"type": "integer"}}}
    return {
        "type": "object",
        "properties": {
            "version": {"type": "string"},
            "colors": {"type": "array", "minItems": 1, "items": entry_color},
            "properties": {"type": "array", "minItems": 1, "items": entry_prop},
            "source": {"type": "object", "properties": {"image": {"type": "string"}}},
        },
    }


def plate(v04):
    named = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "pattern": NAME}}}
    p = {
        "type": "object", "required": ["columns", "rows", "wells"],
        "properties": {
            "name": {"type": "string"},
            "field_count": {"type": "integer", "exclusiveMinimum": 0},
            "columns": {"type": "array", "minItems": 1, "uniqueItems": True, "items": named},
            "rows": {"type": "array", "minItems": 1, "uniqueItems": True, "items": named},
            "wells": {
                "type": "array", "minItems": 1, "uniqueItems": True,
                "items": {
                    "type": "object", "required": ["path", "rowIndex", "columnIndex"],
                    "properties": {
                        "path": {"type": "string", "pattern": r"^[A-Za-z0-9]+/[A-Za-z0-9]+$"},
                        "rowIndex": {"type": "integer", "minimum": 0},
                        "columnIndex": {"type": "integer", "minimum": 0},
                    },
                },
            },
            "acquisitions": {
                "type": "array",
                "items": {
                    "type": "object", "required": ["id"],
                    "properties": {
                        "id": {"type": "integer", "minimum": 0},
                        "name": {"type": "string"}, "description": {"type": "string"},
                        "maximumfieldcount": {"type": "integer", "exclusiveMinimum": 0},
                        "starttime": {"type": "integer", "minimum": 0},
                        "endtime": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
    }
    if v04:
        p["properties"]["version"] = {"type": "string"}
    return p


def well(v04):
    w = {
        "type": "object", "required": ["images"],
        "properties": {
            "images": {
                "type": "array", "minItems": 1, "uniqueItems": True,
                "items": {
                    "type": "object", "required": ["path"],
                    "properties": {"path": {"type": "string", "pattern": NAME}, "acquisition": {"type": "integer"}},
                },
            },
        },
    }
    if v04:
        w["properties"]["version"] = {"type": "string"}
    return w


def multiscales_04_05(v04):
    entry = {
        "type": "object", "required": ["axes", "datasets"],
        "properties": {
            "name": {"type": "string"},
            "axes": {"$ref": "#/$defs/axes"},
            "datasets": {
                "type": "array", "minItems": 1,
                "items": {
                    "type": "object", "required": ["path", "coordinateTransformations"],
                    "properties": {"path": {"type": "string"}, "coordinateTransformations": {"$ref": "#/$defs/scaleTranslation"}},
                },
            },
            "coordinateTransformations": {"$ref": "#/$defs/scaleTranslation"},
            "type": {"type": "string"},
            "metadata": {"type": "object"},
        },
    }
    if v04:
        entry["properties"]["version"] = {"type": "string", "pattern": r"^0\.[1-4]"}
    return {"type": "array", "minItems": 1, "items": entry}


def kinds(defs_prefix=""):
    """if/then chain: classify by keys, then apply one kind's schema."""
    order = [
        ("plate", {"required": ["plate"]}),
        ("well", {"required": ["well"]}),
        ("bioformats2raw", {"required": ["bioformats2raw.layout"]}),
        ("labelImage", {"required": ["multiscales", "image-label"]}),
        ("image", {"required": ["multiscales"]}),
        ("labelImageFragment", {"required": ["image-label"]}),
        ("labels", {"required": ["labels"]}),
        ("series", {"required": ["series"]}),
    ]
    chain = {}
    node = chain
    for i, (kind, cond) in enumerate(order):
        node["if"] = cond
        node["then"] = {"$ref": f"#/$defs/{kind}"}
        if i < len(order) - 1:
            node["else"] = {}
            node = node["else"]
    return chain


def common_defs(v04):
    return {
        "axis": axis(False),
        "axes": axes(),
        "scale": vector("scale"),
        "translation": vector("translation"),
        "scaleTranslation": scale_translation(),
        "omero": omero(v04),
        "plate": {"type": "object", "properties": {"plate": plate(v04)}},
        "well": {"type": "object", "properties": {"well": well(v04)}},
        "bioformats2raw": {"type": "object", "properties": {"bioformats2raw.layout": {"const": 3}}},
        "labels": {"type": "object", "properties": {"labels": {"type": "array", "items": {"type": "string"}}}},
        "series": {"type": "object", "properties": {"series": {"type": "array", "items": {"type": "string"}}}},
        "imageLabel": image_label(),
        "labelImageFragment": {"type": "object", "properties": {"image-label": {"$ref": "#/$defs/imageLabel"}}},
    }


def add_image_defs(defs):
    """An image is multiscales (+ omero); a label image is an image with image-label."""
    defs["image"] = {"type": "object", "properties": {"multiscales": {"$ref": "#/$defs/multiscales"}, "omero": {"$ref": "#/$defs/omero"}}}
    defs["labelImage"] = {"allOf": [{"$ref": "#/$defs/image"}, {"$ref": "#/$defs/labelImageFragment"}]}


def namespaced(version_pattern, title, description, defs):
    """A 0.5+ schema: OME metadata under "ome" with a version of the family, then the kind chain."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": BASE + title[0] + ".schema.json",
        "title": title[1],
        "description": description,
        "type": "object",
        "required": ["ome"],
        "properties": {
            "ome": {
                "type": "object",
                "required": ["version"],
                "properties": {"version": {"type": "string", "pattern": version_pattern}},
                **kinds(),
            }
        },
        "$defs": defs,
    }


def schema_04():
    defs = common_defs(True)
    defs["multiscales"] = multiscales_04_05(True)
    add_image_defs(defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": BASE + "ngff-0.4.schema.json",
        "title": "OME-NGFF 0.4 attributes (.zattrs)",
        "description": "The attributes of one OME-Zarr 0.4 node (Zarr v2 .zattrs). The node kind is chosen by its keys; only that kind's rules apply.",
        "type": "object",
        **kinds(),
        "$defs": defs,
    }


def schema_05():
    defs = common_defs(False)
    defs["multiscales"] = multiscales_04_05(False)
    add_image_defs(defs)
    return namespaced(r"^0\.5($|[-.])", ("ngff-0.5", "OME-Zarr 0.5 attributes (zarr.json attributes)"),
                      "The attributes of one OME-Zarr 0.5 node: OME metadata under \"ome\" with its version. "
                      "The node kind is chosen by its keys; only that kind's rules apply.", defs)


def schema_06():
    defs = common_defs(False)
    cs = {
        "type": "object", "required": ["name", "axes"],
        "properties": {"name": {"type": "string", "minLength": 1}, "axes": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/axis"}}},
    }
    ref = {"oneOf": [{"type": "string"}, {"type": "object", "properties": {"name": {"type": "string"}, "path": {"type": "string"}}}]}
    transform = {
        "type": "object", "required": ["type"],
        "properties": {
            "type": {"type": "string"},
            "input": ref, "output": ref,
            "scale": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}},
            "translation": {"type": "array", "items": {"type": "number"}},
            "mapAxis": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "affine": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "rotation": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "transformations": {"type": "array"},
        },
    }
    level = {
        "type": "array", "minItems": 1, "maxItems": 1,
        "items": {
            "allOf": [{"$ref": "#/$defs/transformation"}],
            "properties": {"type": {"enum": ["scale", "identity", "sequence"]}},
        },
    }
    defs.update({
        "coordinateSystem": cs,
        "transformation": transform,
        "multiscales": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "required": ["coordinateSystems", "datasets"],
                "properties": {
                    "name": {"type": "string"},
                    "coordinateSystems": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/coordinateSystem"}},
                    "datasets": {
                        "type": "array", "minItems": 1,
                        "items": {"type": "object", "required": ["path", "coordinateTransformations"],
                                  "properties": {"path": {"type": "string"}, "coordinateTransformations": level}},
                    },
                    "coordinateTransformations": {"type": "array", "items": {"$ref": "#/$defs/transformation"}},
                },
            },
        },
    })
    add_image_defs(defs)
    return namespaced(r"^0\.6", ("ngff-0.6", "OME-Zarr 0.6 attributes (zarr.json attributes)"),
                      "The attributes of one OME-Zarr 0.6 node (RFC-5 coordinate systems and transformations). "
                      "The node kind is chosen by its keys; only that kind's rules apply.", defs)


if __name__ == "__main__":
    out = os.path.dirname(HERE)
    for name, s in (("ngff-0.4", schema_04()), ("ngff-0.5", schema_05()), ("ngff-0.6", schema_06())):
        with open(os.path.join(out, name + ".schema.json"), "w") as f:
            json.dump(s, f, indent=2)
            f.write("\n")
        print(name)

"""Writes RFC-5 conformance cases that the public suite (oztc) does not have, in its format.

    python rfc5_cases.py OUT_DIR

Each case is `OUT_DIR/<name>.ome.zarr/` with `zarr.json` (and any sub-groups and arrays, written by
zarr-python) plus `conformance.toml`. Expected coordinates are computed here with numpy and scipy
(`scipy.ndimage.map_coordinates` for fields), independently of the implementation under test.
Covered: scenes with sub-images and their array (level) coordinate systems, 0.6 multiscale
displacement fields (vector axis first), the specification's 1-D displacement and coordinate
examples (older array-attribute form), affine parameters in a Zarr array, rc0 byDimension,
projectAxis, a 0.5 image, and errors (ambiguous name, non-invertible projection).
"""

import json
import sys
from pathlib import Path

import numpy as np
import zarr
from scipy import ndimage

OUT = Path(sys.argv[1])
rng = np.random.default_rng(20261121)
V = "0.6"


def space(names, unit="micrometer"):
    return [{"name": n, "type": "space", "unit": unit} for n in names]


def group(path, ome):
    g = zarr.open_group(str(path), mode="a", zarr_format=3)
    g.attrs.put({"ome": ome})
    return g


def array(path, data, attrs=None):
    a = zarr.create_array(str(path), shape=data.shape, dtype=data.dtype, chunks=data.shape, zarr_format=3,
                          dimension_names=None, overwrite=True)
    a[...] = data
    if attrs:
        a.attrs.put(attrs)
    return a


def toml_points(points):
    return "[" + ", ".join("[" + ", ".join(repr(float(v)) for v in p) + "]" for p in points) + "]"


def case(name, source, target, points, expected=None, should_error=False, description="", atol=1e-6, rtol=1e-6):
    root = OUT / f"{name}.ome.zarr"
    lines = [f'description = {json.dumps(description or name)}', f"should_error = {'true' if should_error else 'false'}",
             f"absolute_tolerance = {atol}", f"relative_tolerance = {rtol}", "", "[source]",
             f"name = {json.dumps(source)}", f"coordinates = {toml_points(points)}", "", "[target]", f"name = {json.dumps(target)}"]
    if expected is not None:
        lines.append(f"coordinates = {toml_points(expected)}")
    (root / "conformance.toml").write_text("\n".join(lines) + "\n")


def image06(path, levels, scales, translations=None, systems=None, transforms=None, axes=None):
    """A 0.6 multiscale image with levels s0, s1, ... (zeros) and a `physical` system."""
    axes = axes or space("yx")
    ds = []
    for i, (shape, s) in enumerate(zip(levels, scales)):
        array(path / f"s{i}", np.zeros(shape, dtype="uint8"))
        t = {"type": "scale", "scale": s}
        if translations and translations[i] is not None:
            t = {"type": "sequence", "transformations": [t, {"type": "translation", "translation": translations[i]}]}
        t.update({"input": {"path": f"s{i}"}, "output": {"name": "physical"}})
        ds.append({"path": f"s{i}", "coordinateTransformations": [t]})
    ms = {"name": path.name, "coordinateSystems": [{"name": "physical", "axes": axes}] + (systems or []), "datasets": ds}
    if transforms:
        ms["coordinateTransformations"] = transforms
    group(path, {"version": V, "multiscales": [ms]})


# --- A scene of two tiles (sub-images), each with two levels. ---
def scene_tiles():
    offsets = {"tile_0": [0.0, 0.0], "tile_1": [0.0, 348.0]}
    scales = [[0.5, 0.5], [1.0, 1.0]]
    translations = [None, [0.25, 0.25]]

    def make(root):
        for tile in offsets:
            image06(root / tile, [(8, 8), (4, 4)], scales, translations)
        group(root, {"version": V, "scene": {
            "coordinateSystems": [{"name": "world", "axes": space("yx")}],
            "coordinateTransformations": [
                {"type": "translation", "translation": off, "name": f"{tile} to world",
                 "input": {"path": tile, "name": "physical"}, "output": {"name": "world"}}
                for tile, off in offsets.items()]}})

    pts = np.array([[0.0, 0.0], [3.0, 2.5], [-1.0, 7.0]])
    phys1 = pts * scales[1] + translations[1]          # tile_1 level 1 pixels -> tile_1 physical
    cases = [
        ("scene_tile_to_world", "tile_1/physical", "world", pts, pts + offsets["tile_1"]),
        ("scene_tile_to_tile", "tile_0/physical", "tile_1/physical", pts, pts - offsets["tile_1"]),
        ("scene_level_pixels_to_world", "tile_1/s1", "world", pts, phys1 + offsets["tile_1"]),
        ("scene_world_to_level_pixels", "world", "tile_0/s0", pts, pts / scales[0]),
        ("scene_reference_json", '{"path": "tile_1", "name": "physical"}', "world", pts, pts + offsets["tile_1"]),
    ]
    for name, src, dst, p, e in cases:
        make(OUT / f"{name}.ome.zarr")
        case(name, src, dst, p, e, description=f"scene with sub-images: {src} -> {dst}")
    make(OUT / "scene_ambiguous_name.ome.zarr")
    case("scene_ambiguous_name", "physical", "world", pts, should_error=True,
         description="'physical' is declared by both tiles")


# --- A 0.6 displacement field stored as a multiscale group, vector axis first. ---
def displacement_field():
    shape = (7, 9)
    s, t = [1.5, 2.0], [0.5, -1.0]
    field = rng.normal(0, 0.3, size=(2,) + shape)      # small enough to be invertible
    field = ndimage.gaussian_filter(field, sigma=(0, 1, 1))

    def make(root):
        fpath = root / "coordinateTransformations" / "dfield"
        array(fpath / "s0", field.astype("float64"))
        group(root / "coordinateTransformations", {"version": V})
        group(fpath, {"version": V, "multiscales": [{
            "coordinateSystems": [{"name": "field", "axes": [{"name": "d", "type": "displacement", "discrete": True}] + space("yx")}],
            "datasets": [{"path": "s0", "coordinateTransformations": [{
                "type": "sequence", "input": {"path": "s0"}, "output": {"name": "field"},
                "transformations": [{"type": "scale", "scale": [1.0] + s}, {"type": "translation", "translation": [0.0] + t}]}]}]}]})
        image06(root, [(16, 16)], [[1.0, 1.0]], systems=[{"name": "warped", "axes": space("yx")}], transforms=[
            {"type": "displacements", "path": "coordinateTransformations/dfield", "interpolation": "linear",
             "input": {"name": "physical"}, "output": {"name": "warped"}}])

    def forward(p):
        idx = (p - t) / s
        d = np.stack([ndimage.map_coordinates(field[c], idx.T, order=1, mode="nearest") for c in range(2)], axis=1)
        return p + d

    inside = np.column_stack([rng.uniform(t[0], t[0] + s[0] * (shape[0] - 1), 8), rng.uniform(t[1], t[1] + s[1] * (shape[1] - 1), 8)])
    outside = np.array([[-5.0, -7.0], [40.0, 3.0]])    # beyond the grid: the border samples extend
    pts = np.vstack([inside, outside])
    make(OUT / "displacements_forward.ome.zarr")
    case("displacements_forward", "physical", "warped", pts, forward(pts),
         description="0.6 displacement field (multiscale group, vector axis first), linear")
    make(OUT / "displacements_inverse.ome.zarr")
    case("displacements_inverse", "warped", "physical", forward(inside), inside,
         description="inverse of a displacement field by iteration")


# --- The specification's 1-D examples, in the older form (field description on the array). ---
def spec_1d_examples():
    root = OUT / "spec_displacement_1d.ome.zarr"
    array(root / "displacements", np.array([[-1.0], [0.0], [1.0]]), {"ome": {
        "coordinateSystems": [{"name": "a displacement field transform", "axes": [
            {"name": "x", "type": "space", "unit": "nanometer"}, {"name": "d", "type": "displacement", "discrete": True}]}],
        "coordinateTransformations": [{"type": "scale", "scale": [2, 1], "output": "a displacement field transform"}]}})
    group(root, {"version": "0.6.dev2", "coordinateSystems": [{"name": "i", "axes": [{"name": "i", "type": "space"}]},
                                                             {"name": "x", "axes": [{"name": "x", "type": "space"}]}],
                 "coordinateTransformations": [{"name": "a displacement field transform", "type": "displacements",
                                                "path": "displacements", "input": "i", "output": "x", "interpolation": "linear"}]})
    case("spec_displacement_1d", "i", "x", [[1.0], [0.0], [2.0]], [[0.5], [-1.0], [2.0]],
         description="spec example: [-1,0,1] with scale 2 maps 1.0 to 0.5")
    root = OUT / "spec_coordinates_1d.ome.zarr"
    array(root / "i2xCoordinates", np.array([[-9.0], [9.0], [0.0]]), {"ome": {
        "coordinateSystems": [{"name": "a coordinate field transform", "axes": [
            {"name": "i", "type": "space", "discrete": True}, {"name": "c", "type": "coordinate", "discrete": True}]}],
        "coordinateTransformations": [{"type": "identity", "output": "a coordinate field transform"}]}})
    group(root, {"version": "0.6.dev2", "coordinateSystems": [{"name": "i", "axes": [{"name": "i", "type": "space"}]},
                                                             {"name": "x", "axes": [{"name": "x", "type": "space"}]}],
                 "coordinateTransformations": [{"name": "a coordinate field transform", "type": "coordinates",
                                                "path": "i2xCoordinates", "input": "i", "output": "x", "interpolation": "nearest"}]})
    case("spec_coordinates_1d", "i", "x", [[0.2], [0.5], [1.49], [1.5], [7.0], [-3.0]], [[-9], [9], [9], [0], [0], [-9]],
         description="spec example: nearest lookup in [-9, 9, 0], half-open pixels")
    (OUT / "spec_coordinates_1d_inverse.ome.zarr").mkdir()
    import shutil
    shutil.rmtree(OUT / "spec_coordinates_1d_inverse.ome.zarr")
    shutil.copytree(root, OUT / "spec_coordinates_1d_inverse.ome.zarr")
    case("spec_coordinates_1d_inverse", "x", "i", [[9.0]], should_error=True,
         description="a nearest-interpolated coordinate field has no inverse")


# --- Affine parameters in a Zarr array; rc0 byDimension; projectAxis. ---
def matrices():
    a = np.eye(3, 4) + rng.normal(0, 0.2, (3, 4))
    root = OUT / "affine_path.ome.zarr"
    array(root / "coordinateTransformations" / "affine", a)
    scene = {"version": V, "scene": {"coordinateSystems": [{"name": "in", "axes": space("zyx")}, {"name": "out", "axes": space("zyx")}],
             "coordinateTransformations": [{"type": "affine", "path": "coordinateTransformations/affine",
                                            "input": {"name": "in"}, "output": {"name": "out"}}]}}
    group(root, scene)
    pts = rng.uniform(-10, 10, (5, 3))
    out = pts @ a[:, :3].T + a[:, 3]
    case("affine_path", "in", "out", pts, out, description="affine parameters in a Zarr array")
    root = OUT / "affine_path_inverse.ome.zarr"
    array(root / "coordinateTransformations" / "affine", a)
    group(root, scene)
    case("affine_path_inverse", "out", "in", out, pts, description="inverse of an affine stored in a Zarr array")

    theta = 0.7
    rot = [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    root = OUT / "byDimension_rc0.ome.zarr"
    group(root, {"version": V, "scene": {
        "coordinateSystems": [{"name": "in", "axes": space("zyx")}, {"name": "out", "axes": space("zyx")}],
        "coordinateTransformations": [{"type": "byDimension", "input": {"name": "in"}, "output": {"name": "out"}, "transformations": [
            {"transformation": {"type": "scale", "scale": [4.0]}, "inputAxes": [0], "outputAxes": [0]},
            {"transformation": {"type": "rotation", "rotation": rot}, "inputAxes": [1, 2], "outputAxes": [2, 1]}]}]}})
    r = np.array(rot)
    yx = pts[:, 1:] @ r.T
    expected = np.column_stack([pts[:, 0] * 4, yx[:, 1], yx[:, 0]])
    case("byDimension_rc0", "in", "out", pts, expected, description="0.6rc0 byDimension (transformation, inputAxes, outputAxes)")

    for name, src, dst, exp, err in [("projectAxis", "in", "out", pts[:, 1:], False), ("projectAxis_inverse", "out", "in", None, True)]:
        root = OUT / f"{name}.ome.zarr"
        group(root, {"version": V, "scene": {
            "coordinateSystems": [{"name": "in", "axes": space("zyx")}, {"name": "out", "axes": space("yx")}],
            "coordinateTransformations": [{"type": "projectAxis", "droppedInputs": [0], "input": {"name": "in"}, "output": {"name": "out"}}]}})
        case(name, src, dst, pts if not err else pts[:, 1:], exp, should_error=err,
             description="projectAxis drops z" + (" (not invertible)" if err else ""))


# --- A 0.5 image: level pixels -> physical (scale and translation of level 1). ---
def image05():
    root = OUT / "image05_level_to_physical.ome.zarr"
    for i, shape in enumerate([(4, 16, 16), (4, 8, 8)]):
        array(root / str(i), np.zeros(shape, dtype="uint16"))
    ds = [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [2.0, 0.25, 0.25]}]},
          {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [2.0, 0.5, 0.5]},
                                                      {"type": "translation", "translation": [0.0, 0.125, 0.125]}]}]
    group(root, {"version": "0.5", "multiscales": [{"axes": space("zyx"), "datasets": ds, "name": "img"}]})
    pts = np.array([[0.0, 0.0, 0.0], [3.0, 7.0, 5.5]])
    case("image05_level_to_physical", "1", "physical", pts, pts * [2.0, 0.5, 0.5] + [0.0, 0.125, 0.125],
         description="0.5 image: level 1 pixels to the implied physical system")


OUT.mkdir(parents=True, exist_ok=True)
scene_tiles()
displacement_field()
spec_1d_examples()
matrices()
image05()
print(json.dumps(sorted(p.name.split(".")[0] for p in OUT.iterdir())))

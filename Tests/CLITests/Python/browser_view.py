"""A real browser on what `ome2zarr view` serves: headless Chromium (Debian's chromium and
chromium-driver, driven by selenium) runs the neuroglancer client shipped in the `neuroglancer`
package, with the state `view --json` printed; the voxels the browser decoded are read back.

    browser_view.py VIEW_JSON IMAGE_DIR SCREENSHOT.png -> JSON: dimensions as neuroglancer shows them,
        and per layer the shape and whether its voxels equal the image's level 0 (zarr-python)
"""
import json
import os
import sys

os.environ.setdefault("SE_CHROMEDRIVER", "/usr/bin/chromedriver")
os.environ.setdefault("SE_OFFLINE", "true")

import numpy as np
import neuroglancer
import neuroglancer.webdriver
import zarr

view = json.loads(open(sys.argv[1]).read())
image_dir, shot = sys.argv[2], sys.argv[3]
neuroglancer.set_server_bind_address("127.0.0.1")
viewer = neuroglancer.Viewer()
viewer.set_state(neuroglancer.ViewerState(view["state"]))
args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
out = {"layers": {}}
with neuroglancer.webdriver.Webdriver(viewer, headless=True, browser_binary_path="/usr/bin/chromium",
                                      extra_command_line_args=args, print_logs=False):
    reply = viewer.screenshot(size=[640, 480])
    with open(shot, "wb") as f:
        f.write(reply.screenshot.image)
    dims = viewer.state.dimensions
    out["dimensions"] = {n: [s, u] for n, s, u in zip(dims.names, dims.scales, dims.units)}
    for layer in view["state"]["layers"]:
        name = layer["name"]
        volume = viewer.volume(name).result(timeout=120)
        data = np.asarray(volume.read().result())
        path = os.path.join(image_dir, "labels", name.split("/", 1)[1]) if name.startswith("labels/") else image_dir
        expected = zarr.open_group(path, mode="r")["0"][...]
        out["layers"][name] = {"shape": list(data.shape), "expected_shape": list(expected.shape),
                               "identical": bool(data.shape == expected.shape and np.array_equal(data, expected))}
print(json.dumps(out))

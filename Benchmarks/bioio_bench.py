#!/usr/bin/env python3
"""bioio-conversion (`bioio-convert`) as a peer converter: times one TIFF -> OME-Zarr conversion.

    .venv-bench/bin/python Benchmarks/bioio_bench.py TIFF OUT.ome.zarr [--repeats N] [--num-levels 5]
        [--xy-only] [--result-only] [-- EXTRA bioio-convert ARGS]
    python3 Benchmarks/bioio_bench.py --setup-venv      (creates .venv-bench from requirements-bench.txt)

What runs: the venv's `bioio-convert` CLI as a child process, `bioio-convert TIFF -d DIR -n NAME
--zarr-format 3 --num-levels 5 --downsample-z`. That is OME-Zarr 0.5 (Zarr v3) and sharded: with neither
--chunk-shape nor --shard-shape given, bioio-conversion picks its own v3 layout
(bioio_conversion.sharding.choose_pyramid_layout: chunks up to 16 MiB, a level-0 shard up to 4 GiB,
so the whole 512 MiB standard stack is one shard of 8 x 1024 x 1024 chunks) and writes the shards in a
process pool (one process per core). Passing --chunk-shape or --shard-shape switches it to a
single-threaded fallback writer, so the default layout is the one measured. --num-levels N with
--downsample-z halves z, y and x at every level (5 levels take the standard stack's 1024^2 planes down
to 64^2, as ome2zarr's default pyramid does; --xy-only drops --downsample-z, leaving z at full size on
every level, 1.33x the voxels of level 0 instead of 1.14x); each level is computed from the one before
with nearest-neighbour resampling (skimage resize, order=0), not a mean. The compressor is the
writer's default, blosc zstd level 3 with bitshuffle (bioio_ome_zarr OMEZarrWriter).

Measured per repeat (the output is removed and `sync` is called first): wall seconds of the child,
cpu_seconds = user + system time of the child and its pool processes (less disturbed than wall
time by other load on the machine), peak_rss_mb = the largest resident set of the child or any of
its pool processes (wait4 rusage, the same figure GNU time's %M gives in Benchmarks/run),
peak_tree_rss_mb = the sampled sum over the process tree (the pool processes run at the same time),
stored_bytes = `du -sb` of the store. Then the store is checked with zarr-python: the multiscales
metadata, level 0's shape and dtype against the TIFF and a few whole planes against tifffile's.
One JSON line per repeat:

    {"impl": "bioio-conversion", "result": {"task": "convert_mean", "seconds": ..., "peak_rss_mb": ...,
     "bytes": <uncompressed input bytes>, "stored_bytes": ..., "levels": ..., "shard_shape": [...],
     "chunk_shape": [...], "compressor": "blosc zstd 3 bitshuffle", ...}}

A failed conversion or check prints {"impl": "bioio-conversion", "result": {"error": ...}} and the
script exits 1 after the remaining repeats. --result-only prints the inner result object alone (one
repeat), and nothing on failure, for Benchmarks/run's `run IMPL COMMAND` wrapper, which adds the impl
and writes its own error line when the command fails.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "Benchmarks" / "requirements-bench.txt"
IMPL = "bioio-conversion"


def setup_venv(venv: Path, python: str) -> None:
    """Creates (or re-creates, when requirements-bench.txt changed) the benchmark venv."""
    stamp = venv / ".requirements"
    if (venv / "bin" / "bioio-convert").exists() and stamp.exists() and stamp.read_bytes() == REQUIREMENTS.read_bytes():
        return
    print(f"bioio_bench: creating {venv} with {python} and {REQUIREMENTS.name}", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-r", str(REQUIREMENTS)], check=True)
    shutil.copyfile(REQUIREMENTS, stamp)


def run_child(cmd, stderr_path):
    """Runs cmd; returns (exit code, wall seconds, CPU seconds (user + system, the child and its pool
    processes), peak RSS MiB of the largest process, sampled tree RSS MiB)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    tree_peak = [0]
    done = threading.Event()

    def sample(pid):
        try:
            root = psutil.Process(pid)
        except psutil.Error:
            return
        while not done.is_set():
            total = 0
            try:
                procs = [root] + root.children(recursive=True)
            except psutil.Error:
                break
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            tree_peak[0] = max(tree_peak[0], total)
            done.wait(0.05)

    t0 = time.perf_counter()
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    sampler = None
    if psutil is not None:
        sampler = threading.Thread(target=sample, args=(proc.pid,), daemon=True)
        sampler.start()
    # wait4 gives this child's rusage; ru_maxrss covers the child and every descendant it waited for.
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    if sampler is not None:
        sampler.join()
    cpu = usage.ru_utime + usage.ru_stime
    return proc.returncode, seconds, cpu, usage.ru_maxrss // 1024, tree_peak[0] // (1024 * 1024)


def du_sb(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], check=True, capture_output=True, text=True).stdout.split()[0])


def describe_codecs(codecs):
    """The compressor of a v3 codec list (inside a sharding codec if there is one), as text."""
    parts = []
    for c in codecs:
        name, conf = c["name"], c.get("configuration", {})
        if name in ("bytes", "transpose", "crc32c"):
            continue
        if name == "blosc":
            parts.append(f"blosc {conf.get('cname')} {conf.get('clevel')} {conf.get('shuffle')}")
        else:
            parts.append(name + (" " + json.dumps(conf, sort_keys=True) if conf else ""))
    return " + ".join(parts) or "none"


def inspect_store(out: Path, tiff: Path, planes_to_check: int):
    """Opens the store with zarr-python and compares level 0 with the TIFF; returns the layout facts."""
    import numpy as np
    import tifffile
    import zarr

    group = zarr.open_group(str(out), mode="r")
    attrs = group.attrs.asdict()
    ome = attrs.get("ome", attrs)
    multiscale = ome["multiscales"][0]
    paths = [d["path"] for d in multiscale["datasets"]]
    level0 = group[paths[0]]
    meta = json.loads((out / paths[0] / "zarr.json").read_text())
    codecs = meta["codecs"]
    outer = meta["chunk_grid"]["configuration"]["chunk_shape"]
    if codecs and codecs[0]["name"] == "sharding_indexed":
        shard_shape, chunk_shape = outer, codecs[0]["configuration"]["chunk_shape"]
        compressor = describe_codecs(codecs[0]["configuration"]["codecs"])
    else:
        shard_shape, chunk_shape, compressor = None, outer, describe_codecs(codecs)

    with tifffile.TiffFile(str(tiff)) as tf:
        series = tf.series[0]
        tshape = tuple(series.shape)
        input_bytes = int(np.prod(tshape)) * series.dtype.itemsize
        zshape = tuple(level0.shape)
        # bioio writes TCZYX: level 0 has leading singleton axes the TIFF series does not.
        extra = len(zshape) - len(tshape)
        if extra < 0 or any(s != 1 for s in zshape[:extra]) or zshape[extra:] != tshape:
            raise ValueError(f"level 0 shape {zshape} does not match the TIFF's {tshape}")
        if level0.dtype != series.dtype:
            raise ValueError(f"level 0 dtype {level0.dtype} is not the TIFF's {series.dtype}")
        lead = tshape[:-2]
        nplanes = int(np.prod(lead)) if lead else 1
        if len(series.pages) != nplanes:
            raise ValueError(f"cannot check planes: {len(series.pages)} pages for leading shape {lead}")
        picks = sorted({0, nplanes - 1, nplanes // 2, *np.random.default_rng(7).integers(0, nplanes, max(0, planes_to_check - 3)).tolist()})
        for k in picks:
            idx = tuple(int(i) for i in np.unravel_index(k, lead)) if lead else ()
            want = series.pages[k].asarray()
            got = np.asarray(level0[(0,) * extra + idx + (slice(None), slice(None))])
            if not np.array_equal(want, got):
                raise ValueError(f"plane {idx} of level 0 differs from the TIFF")
    return {
        "levels": len(paths),
        "shard_shape": shard_shape,
        "chunk_shape": chunk_shape,
        "compressor": compressor,
        "level_shapes": [list(group[p].shape) for p in paths],
        "zarr_format": meta.get("zarr_format"),
        "ome_version": ome.get("version"),
        "input_bytes": input_bytes,
        "planes_checked": len(picks),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tiff", nargs="?", type=Path)
    ap.add_argument("out", nargs="?", type=Path, help="the store to write, NAME.ome.zarr (removed before each repeat)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--num-levels", type=int, default=5, help="levels (default 5; 0: bioio-convert's own choice, "
                    "a y-x half pyramid down to a 2048^2 atlas of all planes)")
    ap.add_argument("--xy-only", action="store_true", help="halve only y and x at each level (default: z, y and x)")
    ap.add_argument("--result-only", action="store_true", help="print the result object alone; nothing on failure")
    ap.add_argument("--task", default="convert_mean", help="the task name in the JSON lines (default: convert_mean)")
    ap.add_argument("--bioio-convert", type=Path, default=Path(sys.executable).parent / "bioio-convert")
    ap.add_argument("--check-planes", type=int, default=4, help="whole planes compared with the TIFF (default 4)")
    ap.add_argument("--setup-venv", nargs="?", const=str(ROOT / ".venv-bench"), metavar="DIR",
                    help="create DIR (default .venv-bench) from requirements-bench.txt and exit")
    ap.add_argument("--python", default="python3", help="the interpreter --setup-venv uses (default python3)")
    ap.add_argument("extra", nargs="*", help="after --: more bioio-convert arguments")
    args = ap.parse_args()

    if args.setup_venv:
        setup_venv(Path(args.setup_venv), args.python)
        return 0
    if args.tiff is None or args.out is None:
        ap.error("TIFF and OUT are required")
    out = args.out.resolve()
    if not out.name.endswith(".ome.zarr"):
        ap.error("OUT must end in .ome.zarr (bioio-convert writes DIR/NAME.ome.zarr)")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(args.bioio_convert), str(args.tiff), "-d", str(out.parent), "-n", out.name[: -len(".ome.zarr")],
           "--zarr-format", "3"]
    if args.num_levels > 0:
        cmd += ["--num-levels", str(args.num_levels)]
    if not args.xy_only:
        cmd.append("--downsample-z")
    cmd += args.extra

    if args.result_only and args.repeats != 1:
        ap.error("--result-only prints one result: use --repeats 1")
    failed = False
    for rep in range(1, args.repeats + 1):
        shutil.rmtree(out, ignore_errors=True)
        os.sync()
        load = os.getloadavg()[0]
        stderr_path = out.parent / (out.name + ".stderr.txt")
        code, seconds, cpu, peak_mb, tree_mb = run_child(cmd, stderr_path)
        if code != 0:
            sys.stderr.write(stderr_path.read_text(errors="replace"))
            result = {"error": f"failed ({code}): {' '.join(cmd)}"}
            failed = True
        else:
            try:
                facts = inspect_store(out, args.tiff, args.check_planes)
            except Exception as e:  # the check failing is a result, not a crash
                result = {"error": f"check failed: {type(e).__name__}: {e}"}
                failed = True
            else:
                result = {
                    "task": args.task,
                    "seconds": round(seconds, 2),
                    "peak_rss_mb": peak_mb,
                    "bytes": facts.pop("input_bytes"),
                    "stored_bytes": du_sb(out),
                    **{k: facts[k] for k in ("levels", "shard_shape", "chunk_shape", "compressor")},
                    "cpu_seconds": round(cpu, 2),
                    "peak_tree_rss_mb": tree_mb,
                    "level_shapes": facts["level_shapes"],
                    "zarr_format": facts["zarr_format"],
                    "ome_version": facts["ome_version"],
                    "downsampling": "nearest (skimage resize order 0), " + ("yx only" if args.xy_only else "zyx"),
                    "planes_checked": facts["planes_checked"],
                    "load_1m_before": round(load, 2),
                }
        stderr_path.unlink(missing_ok=True)
        if not args.result_only:
            print(json.dumps({"impl": IMPL, "result": result}), flush=True)
        elif "error" not in result:
            print(json.dumps(result), flush=True)
        print(f"bioio_bench: repeat {rep}: {json.dumps(result)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Runs a split `ome2zarr convert` on a Dask distributed cluster: the parts as tasks, then finalize.

    python convert_dask.py INPUT OUTPUT --parts 8 [-- ome2zarr convert options...]
    python convert_dask.py in.ome.tif /shared/out.ome.zarr --parts 8 --workers 4 -- --chunks 16,64,64
    python convert_dask.py in.ome.tif s3://lab/out.ome.zarr --parts 32 --scheduler tcp://10.0.0.5:8786

Without --scheduler it starts a LocalCluster on this machine (one single-threaded worker process per
--workers; ome2zarr itself uses several threads). With --scheduler it connects to a running scheduler,
such as one started by `dask scheduler` / `dask worker`, dask-jobqueue or dask-kubernetes; the workers
must then see INPUT and OUTPUT under the same names (a shared filesystem, or s3://) and have `ome2zarr`
(or --ome2zarr PATH) and, for s3://, the AWS_* variables.

Each part runs `ome2zarr convert INPUT OUTPUT --part i/N OPTIONS` in a subprocess on a worker; a part
that fails is retried twice (parts are idempotent: a retry rewrites only that part's shards). When every
part has succeeded, `--finalize` runs once (as a task too) and builds the coarser levels and the
metadata. The exit code is 0 on success, 1 if a part or the finalize step failed, 2 for bad arguments.

Needs `distributed` (pip install "distributed"); this script must be run as a file: the __main__ guard
keeps the worker processes that LocalCluster spawns from running it again.
"""

import argparse
import os
import shutil
import subprocess
import sys


def run_ome2zarr(ome2zarr, source, target, step, options, what):
    """Runs `ome2zarr convert SOURCE TARGET STEP... OPTIONS...`; raises (so that Dask retries) if it fails."""
    result = subprocess.run([ome2zarr, "convert", source, target, *step, *options], capture_output=True, text=True)
    if result.returncode != 0:
        message = result.stderr.strip() or result.stdout.strip()
        raise RuntimeError(f"{what} exited {result.returncode}: {message}")
    return what


def run_part(index, count, ome2zarr, source, target, options):
    """Runs part `index` of `count` on a worker."""
    return run_ome2zarr(ome2zarr, source, target, ["--part", f"{index}/{count}"], options, f"part {index}/{count}")


def run_finalize(ome2zarr, source, target, options):
    """Runs the finalize step on a worker, after every part."""
    return run_ome2zarr(ome2zarr, source, target, ["--finalize"], options, "--finalize")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Split `ome2zarr convert` over a Dask cluster: parts as tasks, then --finalize.",
        epilog="Options after `--` go to every `ome2zarr convert` (the parts and finalize alike).",
    )
    parser.add_argument("input", help="the image to convert")
    parser.add_argument("output", help="the OME-Zarr to write: a shared directory or s3://bucket/prefix")
    parser.add_argument("--parts", type=int, required=True,
                        help="how many parts (see `ome2zarr convert IN OUT --plan --parts N`)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="a running Dask scheduler (tcp://host:8786); default: a LocalCluster here")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    parser.add_argument("--retries", type=int, default=2, help="retries of a failed part (default 2)")
    parser.add_argument("--ome2zarr", default=os.environ.get("OME2ZARR") or shutil.which("ome2zarr") or "ome2zarr",
                        help="the ome2zarr executable (default: $OME2ZARR, else ome2zarr on the PATH)")
    argv = sys.argv[1:] if argv is None else argv
    options = []
    if "--" in argv:
        split = argv.index("--")
        argv, options = argv[:split], argv[split + 1:]
    args = parser.parse_args(argv)
    if args.parts < 1:
        parser.error("--parts must be at least 1")

    from dask.distributed import Client, LocalCluster  # imported here: `--help` works without Dask

    if args.scheduler:
        cluster = None
        client = Client(args.scheduler)
    else:
        # Processes, not threads: each task mostly waits for its ome2zarr subprocess anyway, and the
        # workers' own failures stay apart. No dashboard: nothing should listen on a fixed port.
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        # pure=False: every call is its own task (Dask would otherwise deduplicate equal arguments).
        futures = client.map(run_part, range(args.parts), count=args.parts, ome2zarr=args.ome2zarr,
                             source=args.input, target=args.output, options=options,
                             retries=args.retries, pure=False)
        failed = []
        for future, index in zip(futures, range(args.parts)):
            try:
                future.result()
            except Exception as error:  # a part that failed after its retries, or a worker that died
                failed.append(index)
                print(f"convert_dask: {error}", file=sys.stderr)
        if failed:
            print(f"convert_dask: {len(failed)} of {args.parts} parts failed ({', '.join(map(str, failed))}); "
                  "not finalizing. Run the same command again: finished parts exit at once.", file=sys.stderr)
            return 1
        # On a worker too: the workers are the machines that see OUTPUT.
        finalize = client.submit(run_finalize, args.ome2zarr, args.input, args.output, options,
                                 retries=args.retries, pure=False)
        try:
            finalize.result()
        except Exception as error:
            print(f"convert_dask: {error}", file=sys.stderr)
            return 1
        print(f"convert_dask: {args.parts} parts and --finalize done: {args.output}", file=sys.stderr)
        return 0
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    sys.exit(main())

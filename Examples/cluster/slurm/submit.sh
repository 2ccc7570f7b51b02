#!/usr/bin/env bash
# Submits a split `ome2zarr convert` to Slurm: an array job of PARTS tasks (convert.sbatch), and the
# finalize job (finalize.sbatch), which starts only once every task has succeeded.
#
#   submit.sh INPUT OUTPUT PARTS [ome2zarr convert options...]
#   submit.sh /shared/raw/stack.ome.tif /shared/zarr/stack.ome.zarr 8 --chunks 16,64,64 --shards 16,512,512
#
# Prints "<array job id> <finalize job id>" on standard output. Logs go to the current directory
# (<array job id>_<task>.log, <finalize job id>.log). Choose PARTS with
# `ome2zarr convert INPUT OUTPUT --plan --parts PARTS` (more parts than the plan has shard runs only adds
# idle tasks). Environment:
#   SBATCH_ARGS   more sbatch options for both jobs, split at spaces (e.g. "--partition=short --account=lab")
#   MAX_RUNNING   at most this many tasks at once (--array=0-N%MAX_RUNNING)
#   OME2ZARR      the ome2zarr to run, if it is not on the PATH the jobs get
# sbatch's own variables (SBATCH_PARTITION, SBATCH_ACCOUNT, ...) work too.
#
# If a task fails, the finalize job is cancelled (DependencyNeverSatisfied) and the output has no image
# metadata. Fix the cause and run the same command again: finished parts exit at once, and the finalize
# job is submitted anew.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 INPUT OUTPUT PARTS [ome2zarr convert options...]" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
export INPUT="$1" OUTPUT="$2"
parts="$3"
shift 3
case "$parts" in
  '' | *[!0-9]* | 0*) echo "$0: PARTS must be a whole number of at least 1, not '$parts'" >&2; exit 2 ;;
esac

array_range="0-$((parts - 1))${MAX_RUNNING:+%$MAX_RUNNING}"
# shellcheck disable=SC2086  # SBATCH_ARGS is a list of options
array="$(sbatch --parsable --array="$array_range" ${SBATCH_ARGS:-} "$here/convert.sbatch" "$@")"
array="${array%%;*}"  # --parsable prints "id" or "id;cluster"

# afterok on an array job waits for every task; if one fails, the dependency can never be satisfied and
# --kill-on-invalid-dep=yes cancels the finalize job instead of leaving it pending forever.
# shellcheck disable=SC2086
finalize="$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes ${SBATCH_ARGS:-} \
  "$here/finalize.sbatch" "$@")"
finalize="${finalize%%;*}"

echo "submitted array job $array ($parts parts) and finalize job $finalize" >&2
echo "$array $finalize"

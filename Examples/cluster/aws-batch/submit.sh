#!/usr/bin/env bash
# Submits a split `ome2zarr convert` to AWS Batch: an array job of PARTS children, each running
# `ome2zarr convert INPUT OUTPUT --part auto` (AWS Batch sets AWS_BATCH_JOB_ARRAY_INDEX, 0-based, and
# AWS_BATCH_JOB_ARRAY_SIZE), then the finalize job, which depends on the whole array.
#
#   aws batch register-job-definition --cli-input-json file://job-definition.json   # once
#   submit.sh INPUT OUTPUT PARTS [ome2zarr convert options...]
#   submit.sh /data/raw/stack.ome.tif s3://lab-images/zarr/stack.ome.zarr 16 --chunks 16,64,64
#
# Prints "<array job id> <finalize job id>". Environment:
#   JOB_QUEUE       the job queue (default: ome2zarr)
#   JOB_DEFINITION  the job definition, name or name:revision (default: ome2zarr-convert)
#   ATTEMPTS        tries per child and for finalize (default: 3; 1 to 10). Exit 1 (invalid data) is not
#                   retried (the definition's evaluateOnExit); I/O errors, lost hosts and spot
#                   reclaims are, and a retried part rewrites only its own shards.
#   TIMEOUT         seconds per attempt (default: 7200)
# AWS Batch arrays have 2 to 10,000 children: for one part, run a plain `ome2zarr convert`.
# Both jobs get their whole command here (the definition's Ref::input/Ref::output command is for
# submitting by hand with --parameters), so the options are surely the same for the parts and finalize.
# If a child fails for good, AWS Batch fails the finalize job (its dependency failed); run this again:
# finished parts exit at once.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 INPUT OUTPUT PARTS [ome2zarr convert options...]" >&2
  exit 2
fi
input="$1" output="$2" parts="$3"
shift 3
case "$parts" in
  '' | *[!0-9]* | 0*) echo "$0: PARTS must be a whole number, not '$parts'" >&2; exit 2 ;;
esac
if [ "$parts" -lt 2 ] || [ "$parts" -gt 10000 ]; then
  echo "$0: AWS Batch array jobs have 2 to 10000 children, not $parts" >&2
  exit 2
fi
queue="${JOB_QUEUE:-ome2zarr}"
definition="${JOB_DEFINITION:-ome2zarr-convert}"
attempts="${ATTEMPTS:-3}"
timeout="${TIMEOUT:-7200}"
# Job names: up to 128 letters, digits, hyphens and underscores.
name="ome2zarr-$(printf '%s' "$(basename "$output")" | tr -c 'A-Za-z0-9_-' '-' | cut -c1-100)"
# A retry strategy given at submission replaces the definition's whole, so repeat its evaluateOnExit.
retry="{\"attempts\": $attempts, \"evaluateOnExit\": [{\"onExitCode\": \"1\", \"action\": \"EXIT\"}]}"

# A JSON array of strings from the arguments.
json_array() {
  local out="" s
  for s in "$@"; do
    s="${s//\\/\\\\}"
    s="${s//\"/\\\"}"
    out+="${out:+, }\"$s\""
  done
  echo "[$out]"
}

array="$(aws batch submit-job \
  --job-name "$name-parts" --job-queue "$queue" --job-definition "$definition" \
  --array-properties "size=$parts" \
  --retry-strategy "$retry" \
  --timeout "attemptDurationSeconds=$timeout" \
  --container-overrides "{\"command\": $(json_array ome2zarr convert "$input" "$output" --part auto "$@")}" \
  --query jobId --output text)"

# Depending on the array's parent job (no type) waits for every child; SEQUENTIAL and N_TO_N are for
# dependencies between children.
finalize="$(aws batch submit-job \
  --job-name "$name-finalize" --job-queue "$queue" --job-definition "$definition" \
  --depends-on "jobId=$array" \
  --retry-strategy "$retry" \
  --timeout "attemptDurationSeconds=$timeout" \
  --container-overrides "{\"command\": $(json_array ome2zarr convert "$input" "$output" --finalize "$@")}" \
  --query jobId --output text)"

echo "submitted array job $array ($parts parts) and finalize job $finalize to $queue" >&2
echo "$array $finalize"

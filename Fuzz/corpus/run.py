#!/usr/bin/env python3
"""Run every ome2zarr command on a hostile corpus and report crashes, hangs and bad output.

Classes (most severe first):
  crash         killed by a signal, an exit code outside {0,1,2}, or a Swift trap / sanitizer text
  hang          still running after --timeout seconds
  bad-output    convert exited 0 but `validate --data` rejects what it wrote
  mismatch      convert exited 0 but `verify` says level 0 differs from the input
  unclear-error exit 1/2 with no message, or a message that names no file, key or option
Findings are deduplicated by a signature (class, command, the trap or message with numbers and
paths stripped) and written to OUT/findings.json with a reproducer folder per finding.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutate  # noqa: E402

SEVERITY = ["crash", "hang", "bad-output", "mismatch", "unclear-error"]
TRAP_PATTERNS = re.compile(r"Fatal error|Precondition failed|Assertion failed|Illegal instruction|"
                           r"AddressSanitizer|UndefinedBehaviorSanitizer|Segmentation fault|Swift runtime failure|"
                           r"Program crashed|Could not allocate memory|Trace/breakpoint trap|Aborted|"
                           r"Simultaneous accesses|Thread \d+ crashed")
OPAQUE = re.compile(r"The operation could not be completed|Error Domain=|error \d+\.$|^\s*error:?\s*$", re.M)


def limits(mem_bytes, fsize_bytes):
    def apply():
        os.setsid()
        if mem_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
        if fsize_bytes:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


class Runner:
    def __init__(self, binary, timeout, mem, fsize):
        self.binary = binary
        self.timeout = timeout
        self.mem = mem
        self.fsize = fsize
        self.env = dict(os.environ, SWIFT_BACKTRACE="enable=yes,interactive=no,color=no,threads=crashed,"
                        "registers=none,images=none,limit=24,sanitize=no,output-to=stderr")

    def run(self, args, cwd, stdin=None):
        # A command line cannot hold a NUL byte (no shell could pass one): drop it.
        args = [a.replace("\0", "") for a in args]
        start = time.monotonic()
        p = subprocess.Popen([self.binary, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             preexec_fn=limits(self.mem, self.fsize), env=self.env)
        try:
            out, err = p.communicate(stdin.encode() if stdin is not None else None, timeout=self.timeout)
            hung = False
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = p.communicate()
            hung = True
        return {"args": args, "rc": None if hung else p.returncode, "hang": hung,
                "secs": round(time.monotonic() - start, 2),
                "stdout": out.decode("utf-8", "replace")[:20000], "stderr": err.decode("utf-8", "replace")[:20000]}


def normalise(text: str) -> str:
    for marker in ("Fatal error", "Precondition failed", "Assertion failed", "Swift runtime failure"):
        if marker in text:
            text = text[text.index(marker):]
            break
    text = re.sub(r"(/[^\s'\"`:,)]+)+", "<path>", text)
    text = re.sub(r"0x[0-9a-fA-F]+", "<hex>", text)
    text = re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "N", text)
    text = re.sub(r"'[^']{0,200}'", "'…'", text)
    return re.sub(r"\s+", " ", text).strip()[:200]


def source_frame(stderr: str) -> str | None:
    """The first frame of ours in a Swift backtrace: 'File.swift:line'."""
    for m in re.finditer(r"(?:at |\s)(/\S*/Sources/\S+?\.swift):(\d+)", stderr):
        return f"{Path(m.group(1)).parent.name}/{Path(m.group(1)).name}:{m.group(2)}"
    m = re.search(r"(\w+\.swift):(\d+)", stderr)
    return f"{m.group(1)}:{m.group(2)}" if m else None


def command_name(args) -> str:
    words = [a for a in args[:2] if not a.startswith(("in/", "work/"))]
    if args and args[0] in ("info", "validate"):
        words += [a for a in args if a in ("--stats", "--data")]
    return " ".join(words)


def classify(res, convert_ok_check=None):
    """(class, key text) for one run, or None when it behaved."""
    err = res["stderr"]
    if res.get("skipped"):
        return None
    trap = TRAP_PATTERNS.search(err)
    if res["hang"] and not trap:
        return "hang", ""
    rc = res["rc"] if not res["hang"] else -9

    if rc < 0 or rc not in (0, 1, 2) or trap:
        line = next((l for l in err.splitlines() if TRAP_PATTERNS.search(l)), f"signal {-rc}" if rc < 0 else f"exit {rc}")
        return "crash", normalise(line) + (f" @ {source_frame(err)}" if source_frame(err) else "")
    if rc in (1, 2):
        text = (err.strip() or res["stdout"].strip())
        if not text:
            return "unclear-error", "no message"
        # A validation report (on stdout) is the message: findings with rule ids and JSON pointers.
        # (Its first line, "PATH: ... N node(s) checked", survives the truncation of long outputs.)
        if not err.strip() and "node(s) checked" in res["stdout"].split("\n", 1)[0]:
            return None
        if OPAQUE.search(text):
            return "unclear-error", normalise(text.splitlines()[0])
    return None


def discover_systems(runner, path, cwd):
    """Two coordinate system names for `transform`, from the error that lists them."""
    res = runner.run(["transform", path, "\u0001", "\u0001", "--explain"], cwd)
    m = re.search(r"known: (.*?)\"?\}?$", res["stdout"] + res["stderr"], re.M)
    names = re.findall(r"'([^']*)'", m.group(1)) if m else []
    return res, names


class CaseRun:
    def __init__(self, case: Path, runner: Runner):
        self.case = case
        self.meta = json.loads((case / "case.json").read_text())
        self.runner = runner
        self.results = []   # (res, class, key, note)
        self.work = case / "work"
        self.skipped = 0

    def do(self, args, stdin=None, note=""):
        if any(r["hang"] for r, _, _, _ in self.results):
            # one hang per case is enough: the rest of its commands would mostly hang too
            self.skipped += 1
            return {"args": args, "rc": None, "hang": False, "secs": 0, "stdout": "", "stderr": "", "skipped": True}
        res = self.runner.run(args, self.case, stdin)
        c = classify(res)
        self.results.append((res, c[0] if c else None, c[1] if c else None, note))
        return res

    def flag(self, res, cls, key, note):
        self.results.append((res, cls, key, note))

    def convert_and_check(self, inp, extra, verify=True):
        out = "work/conv"
        r = self.do(["convert", inp, out, "--quiet", *extra])
        if r["rc"] != 0:
            return
        v = self.do(["validate", out, "--data", "--json"])
        if not v["hang"] and v["rc"] != 0 and not TRAP_PATTERNS.search(v["stderr"]) and v["rc"] in (1, 2):
            rules = []
            try:
                doc = json.loads(v["stdout"])
                rules = sorted({f.get("rule", "?") for f in doc.get("findings", []) if f.get("severity") == "error"})
            except Exception:
                rules = [normalise((v["stderr"] or v["stdout"]).strip().splitlines()[0] if (v["stderr"] or v["stdout"]).strip() else "no message")]
            v = dict(v, args=["validate", out, "--data", "--json"], cmd="convert")
            self.flag(v, "bad-output", ",".join(rules), note=shlex.join(["convert", inp, out, "--quiet", *extra]))
        self.do(["info", out, "--stats"])
        if verify:
            vargs = ["verify", inp, out]
            if "--series" in extra:
                vargs += ["--series", extra[extra.index("--series") + 1]]
            if "--pattern" in extra:
                vargs += ["--pattern", extra[extra.index("--pattern") + 1]]
            vr = self.do(vargs)
            if vr["rc"] == 1 and not vr["hang"] and not TRAP_PATTERNS.search(vr["stderr"]) and \
                    "differ" in vr["stdout"] + vr["stderr"]:
                self.flag(vr, "mismatch", normalise((vr["stderr"] or vr["stdout"]).strip()[:200]),
                          note=shlex.join(["convert", inp, out, "--quiet", *extra]))

    def transform(self, inp):
        res, names = discover_systems(self.runner, inp, self.case)
        c = classify(res)
        self.results.append((res, c[0] if c else None, c[1] if c else None, ""))
        if len(names) >= 2 and not res["hang"]:
            rank = self.meta.get("rank", 3)
            pts = json.dumps([[0] * rank, [1.5] * rank, [1e308] * rank])
            self.do(["transform", inp, names[1], names[0], pts, "--matrix", "--explain"])
            self.do(["transform", inp, names[0], names[-1], "-"], stdin=json.dumps([[2] * rank] * 1000))

    def run(self):
        self.work.mkdir(exist_ok=True)
        inp = self.meta["input"]
        kind = self.meta["kind"]
        i = int(self.case.name.rsplit("-", 1)[1])
        if kind == "tiff":
            extra = list(self.meta.get("convert_args") or [])
            if not extra:
                extra = [[], ["--version", "0.4"], ["--version", "0.6"]][i % 3]
            self.convert_and_check(inp, extra)
        elif kind == "folder":
            extra = ["--pattern", self.meta["pattern"]] if self.meta.get("pattern") else []
            self.convert_and_check(inp, extra)
        elif kind == "zarr":
            self.do(["info", inp])
            self.do(["info", inp, "--stats", "--json"])
            self.do(["validate", inp])
            self.do(["validate", inp, "--data", "--json"])
            self.transform(inp)
            self.convert_and_check(inp, [[], ["--version", "0.4"]][i % 2])
            self.do(["collection", "from", inp, "work/from.json"])
            r = self.do(["collection", "create", "work/c.json", inp, "--allow-outside"])
            if r["rc"] == 0:
                self.do(["collection", "list", "work/c.json", "--json", "--allow-outside"])
        elif kind == "doc":
            self.do(["validate", inp])
            self.do(["info", inp])
            self.do(["collection", "list", inp, "--json"])
            self.transform(inp)
            copy = "work/" + Path(inp).name
            shutil.copy2(self.case / inp, self.case / copy)
            seed_img = next((p for p in (self.case / "in").iterdir() if p.is_dir()), None)
            if seed_img is not None:
                self.do(["collection", "add", copy, str(seed_img.relative_to(self.case)), "--name", "extra",
                         "--allow-outside"])
        return self


def summarise(runs, out: Path, runner: Runner, elapsed: float):
    findings = {}
    counts = {c: 0 for c in SEVERITY}
    total = skipped = 0
    slow = []
    with open(out / "runs.jsonl", "w") as log:
        for cr in runs:
            for res, cls, key, note in cr.results:
                if not res.get("skipped"):
                    log.write(json.dumps({"case": cr.case.name, "args": res["args"], "rc": res["rc"],
                                          "hang": res["hang"], "secs": res["secs"], "class": cls}) + "\n")
                    if not res["hang"] and res["secs"] > runner.timeout / 4:
                        slow.append((res["secs"], cr.case.name, command_name(res["args"])))
    for cr in runs:
        skipped += cr.skipped
        for res, cls, key, note in cr.results:
            if res.get("skipped"):
                continue
            total += 1
            if not cls:
                continue
            counts[cls] += 1
            cmd = res.get("cmd") or command_name(res["args"])
            what = normalise(cr.meta["desc"].split(": ", 1)[-1])[:80]
            sig = f"{cls} | {cmd} | {key}" if cls != "hang" else f"hang | {cmd} | {cr.meta['family']}: {what}"
            f = findings.setdefault(sig, {"signature": sig, "class": cls, "command": cmd, "count": 0,
                                          "families": [], "cases": [], "example": None})
            f["count"] += 1
            if cr.meta["family"] not in f["families"]:
                f["families"].append(cr.meta["family"])
            if len(f["cases"]) < 20:
                f["cases"].append(cr.case.name)
            if f["example"] is None:
                f["example"] = {"case": cr.case.name, "desc": cr.meta["desc"], "args": res["args"],
                                "rc": res["rc"], "secs": res["secs"], "setup": note,
                                "stderr": res["stderr"][-4000:], "stdout": res["stdout"][:2000],
                                "source": source_frame(res["stderr"])}
    ordered = sorted(findings.values(), key=lambda f: (SEVERITY.index(f["class"]), -f["count"], f["signature"]))
    fdir = out / "findings"
    if fdir.exists():
        shutil.rmtree(fdir)
    fdir.mkdir(parents=True)
    for n, f in enumerate(ordered, 1):
        ex = f["example"]
        d = fdir / f"{n:03d}-{f['class']}"
        f["reproducer"] = str(d)
        case = out / "cases" / ex["case"]
        shutil.copytree(case / "in", d / "in", symlinks=True)
        shutil.copy2(case / "case.json", d / "case.json")
        lines = ["#!/bin/sh", "# " + ex["desc"].replace("\n", " ")[:300], 'cd "$(dirname "$0")"',
                 f'BIN="${{BIN:-{runner.binary}}}"', "rm -rf work; mkdir -p work"]
        if ex["setup"]:
            lines.append('"$BIN" ' + ex["setup"].split(" ", 1)[0] + " " + ex["setup"].split(" ", 1)[1])
        if ex["args"][0] == "collection" and ex["args"][1] in ("add",):
            lines.append(f"cp {shlex.quote(ex['args'][2].replace('work/', 'in/', 1))} work/ 2>/dev/null || "
                         f"cp in/*.json work/")
        lines.append(f'timeout {runner.timeout} "$BIN" ' + shlex.join(ex["args"]) + "; echo \"exit $?\"")
        (d / "repro.sh").write_text("\n".join(lines) + "\n")
        (d / "repro.sh").chmod(0o755)
        (d / "stderr.txt").write_text(ex["stderr"])
        (d / "stdout.txt").write_text(ex["stdout"])
        f["repro"] = f"{d}/repro.sh"
    (out / "findings.json").write_text(json.dumps({"runs": total, "cases": len(runs), "counts": counts,
                                                   "skipped": skipped, "seconds": round(elapsed), "binary": runner.binary,
                                                   "findings": ordered}, indent=1))
    print(f"\n{len(runs)} cases, {total} runs ({skipped} skipped after a hang) in {elapsed:.0f} s")
    print(f"{'class':<14} {'runs':>6} {'signatures':>10}")
    for c in SEVERITY:
        print(f"{c:<14} {counts[c]:>6} {sum(1 for f in ordered if f['class'] == c):>10}")
    print()
    for n, f in enumerate(ordered, 1):
        ex = f["example"]
        print(f"{n:3d}. [{f['class']}] x{f['count']} {f['signature'][:150]}")
        print(f"     {','.join(f['families'])}: {ex['desc'][:140]}")
        if ex["source"]:
            print(f"     source: {ex['source']}")
    if slow:
        print(f"\nslow runs (over {runner.timeout / 4:g} s, not counted):")
        for secs, name, cmd in sorted(slow, reverse=True)[:15]:
            print(f"  {secs:6.1f} s  {name}  {cmd}")
    print(f"\nfindings: {out / 'findings.json'}  reproducers: {fdir}")
    return ordered


def main():
    ap = argparse.ArgumentParser(description="Run ome2zarr on a hostile corpus.")
    ap.add_argument("--binary", default=".build/debug/ome2zarr")
    ap.add_argument("--count", type=int, default=20, help="cases per family")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("/tmp/hostile"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--families", default=",".join(mutate.FAMILIES))
    ap.add_argument("--cases", default="", help="only these case ids (comma-separated), e.g. tiff-0003")
    ap.add_argument("--memory", default="4G", help="address-space limit per run (0: none)")
    ap.add_argument("--keep", action="store_true", help="keep every case's outputs (work/)")
    a = ap.parse_args()
    binary = str(Path(a.binary).resolve())
    if not os.access(binary, os.X_OK):
        sys.exit(f"hostile: no executable at {binary} (build it, or pass --binary)")
    mem = int(float(a.memory[:-1]) * {"K": 2**10, "M": 2**20, "G": 2**30}[a.memory[-1].upper()]) \
        if a.memory[-1].isalpha() else int(a.memory)
    fams = [f for f in a.families.split(",") if f]
    bad = [f for f in fams if f not in mutate.FAMILIES]
    if bad:
        sys.exit(f"hostile: unknown families {bad}; known: {','.join(mutate.FAMILIES)}")
    a.out.mkdir(parents=True, exist_ok=True)
    runner = Runner(binary, a.timeout, mem, 1 << 30)
    start = time.monotonic()
    only = set(filter(None, a.cases.split(",")))
    cases = list(mutate.generate(a.out, a.count, a.seed, fams, binary, only or None))
    print(f"corpus: {len(cases)} cases ({time.monotonic() - start:.0f} s); running with {a.jobs} jobs, "
          f"timeout {a.timeout:g} s", flush=True)

    def one(case):
        cr = CaseRun(case, runner).run()
        if not a.keep:
            shutil.rmtree(case / "work", ignore_errors=True)
        bad = [c for _, c, _, _ in cr.results if c in ("crash", "hang", "bad-output")]
        if bad:
            print(f"  {case.name}: {', '.join(sorted(set(bad)))}", flush=True)
        return cr

    with cf.ThreadPoolExecutor(a.jobs) as ex:
        runs = list(ex.map(one, cases))
    runs.sort(key=lambda r: r.case.name)
    ordered = summarise(runs, a.out, runner, time.monotonic() - start)
    sys.exit(1 if any(f["class"] in ("crash", "hang", "bad-output") for f in ordered) else 0)


if __name__ == "__main__":
    main()

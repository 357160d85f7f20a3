#!/usr/bin/env python3
"""Instructions per request under valgrind (callgrind), corsair-tower vs
tower-http, every shape: (Ir(call, N) - Ir(setup, N)) / N. Deterministic:
the busy-machine noise of wall-clock times does not touch it. Also each
library's answer to each shape (status and CORS headers, the harness's
`outcome` mode), so that the report can say where they differ.
Writes JSON to argv[2]; argv[1] is the bench/insn binary."""
import json, re, subprocess, sys

SHAPES = ["non_cors", "actual_allowed", "actual_rejected", "preflight_allowed", "preflight_rejected",
          "preflight_acrh_60k_commas", "origins_1_actual_allowed", "origins_100_actual_allowed",
          "origins_10000_actual_allowed", "origins_10000_preflight_allowed"]
LIBS = ("corsair", "tower-http")
N = 2000


def ir(binary, *args):
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", binary, *args],
                       capture_output=True, text=True)
    m = re.search(r"refs:\s+([\d,]+)", r.stderr)
    if r.returncode != 0 or not m:
        raise SystemExit(f"callgrind failed on {args}: {r.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def outcome(binary, shape, lib):
    r = subprocess.run([binary, shape, lib, "1", "outcome"], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"outcome of {shape} through {lib} failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout)


out, outcomes = {}, {}
for shape in SHAPES:
    outcomes[shape] = {lib: outcome(sys.argv[1], shape, lib) for lib in LIBS}
    out[shape] = {}
    for lib in LIBS:
        per = (ir(sys.argv[1], shape, lib, str(N), "call") - ir(sys.argv[1], shape, lib, str(N), "setup")) / N
        out[shape][lib] = per
    print(f"{shape:<34} corsair {out[shape]['corsair']:8.0f} Ir  tower-http {out[shape]['tower-http']:8.0f} Ir  "
          f"ratio {out[shape]['corsair'] / out[shape]['tower-http']:.2f}  status "
          f"{outcomes[shape]['corsair']['status']} / {outcomes[shape]['tower-http']['status']}", flush=True)
json.dump({"n": N, "shapes": out, "outcomes": outcomes}, open(sys.argv[2], "w"), indent=1)

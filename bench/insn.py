#!/usr/bin/env python3
"""Instructions per request under valgrind (callgrind), corsair-tower vs
tower-http, every shape: (Ir(call, N) - Ir(setup, N)) / N. Deterministic:
the busy-machine noise of wall-clock times does not touch it.
Writes JSON to argv[2]; argv[1] is the bench/insn binary."""
import json, re, subprocess, sys

SHAPES = ["non_cors", "actual_allowed", "actual_rejected", "preflight_allowed", "preflight_rejected",
          "preflight_acrh_60k_commas", "origins_1_actual_allowed", "origins_100_actual_allowed",
          "origins_10000_actual_allowed", "origins_10000_preflight_allowed"]
N = 2000


def ir(binary, *args):
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", binary, *args],
                       capture_output=True, text=True)
    m = re.search(r"refs:\s+([\d,]+)", r.stderr)
    if r.returncode != 0 or not m:
        raise SystemExit(f"callgrind failed on {args}: {r.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


out = {}
for shape in SHAPES:
    out[shape] = {}
    for lib in ("corsair", "tower-http"):
        per = (ir(sys.argv[1], shape, lib, str(N), "call") - ir(sys.argv[1], shape, lib, str(N), "setup")) / N
        out[shape][lib] = per
    print(f"{shape:<34} corsair {out[shape]['corsair']:8.0f} Ir  tower-http {out[shape]['tower-http']:8.0f} Ir  "
          f"ratio {out[shape]['corsair'] / out[shape]['tower-http']:.2f}", flush=True)
json.dump({"n": N, "shapes": out}, open(sys.argv[2], "w"), indent=1)

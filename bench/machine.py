#!/usr/bin/env python3
"""Records the machine into machine.json of the results directory (BENCH_RES,
bench/results by default), merging keys given as k=v arguments."""
import json, os, subprocess, sys, time

RES = os.environ.get("BENCH_RES", os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
os.makedirs(RES, exist_ok=True)
path = os.path.join(RES, "machine.json")
m = json.load(open(path)) if os.path.exists(path) and "--merge" in sys.argv else {}

def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return (r.stdout + r.stderr).strip().splitlines()[0] if (r.stdout + r.stderr).strip() else "?"

if "--merge" not in sys.argv:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    m.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), nproc=os.cpu_count(), cpu=cpu,
             kernel=sh("uname", "-sr"), rustc=sh("rustc", "--version"), nginx=sh("nginx", "-v"),
             wrk=sh("wrk", "-v").split(" Copyright")[0], h2load=sh("h2load", "--version"),
             openssl=sh("openssl", "version"))
for a in sys.argv[1:]:
    if "=" in a:
        k, v = a.split("=", 1)
        m[k] = v
json.dump(m, open(path, "w"), indent=1)

#!/usr/bin/env python3
"""User-space instructions per request of `corsair serve` (and, with
NGINX=1, of nginx) under valgrind's callgrind: deterministic for the same
binary and load, whatever else the machine is doing.

The gateway runs under callgrind with instrumentation off; after a warm-up
(pools filled, code paged in) instrumentation is switched on with
callgrind_control, wrk sends DURATION seconds of one workload, then it is
switched off again and the instructions counted are divided by the
requests wrk completed. Workloads and the policy are those of
bench/gateway.py (preflight, actual, mixed).

    python3 bench/gateway_insn.py OUT.json      # CORSAIR=path/to/corsair to measure another build

Environment: CORSAIR, UPSTREAM (binaries, as bench/gateway.py), DURATION (5),
CONNS (20), NGINX=1 (also measure nginx), WORKLOADS (preflight,actual,mixed; also head),
KEEP=DIR (keep the callgrind files there, for callgrind_annotate).
"""
import json, os, re, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gateway as g  # noqa: E402

DURATION = int(os.environ.get("DURATION", "5"))
CONNS = int(os.environ.get("CONNS", "20"))
WORKLOADS = os.environ.get("WORKLOADS", "preflight,actual,mixed").split(",")

# Workloads beyond bench/gateway.py's: `head`, proxied HEAD requests (the
# answer carries the GET's Content-Length, so since issue 14 the gateway
# never reuses the upstream connection after it: this measures that cost).
LUA = dict(g.LUA, head=f"""
wrk.method = "HEAD"
wrk.headers["Origin"] = "{g.ORIGIN}"
""")


def total_ir(out_file):
    """The instructions counted in a callgrind output file (its `totals:`
    line; `summary:` stays 0 when instrumentation starts switched off)."""
    with open(out_file) as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit(f"no totals in {out_file}")


def python_load(port, method, n):
    """n requests with `method` over one keep-alive connection (for methods
    wrk cannot drive: its parser waits for a HEAD answer's body)."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done = 0
    for _ in range(n):
        c.request(method, "/items/1", headers={"Origin": g.ORIGIN})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"{method}: status {r.status}")
        done += 1
    c.close()
    return {"requests": done, "non2xx": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0}


def measure(cmd, port, pid_of, workload, tmp, label):
    out = os.path.join(tmp, f"cg.{label}.{workload}.%p")
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", "--trace-children=yes",
                          f"--callgrind-out-file={out}"] + cmd,
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, f"{label}.log"), "w"))
    try:
        g.wait_port(port, 60)
        script = os.path.join(tmp, f"{workload}.lua")
        url = f"http://127.0.0.1:{port}/items/1"
        if workload == "head":
            python_load(port, "HEAD", 200)
        else:
            subprocess.run(["wrk", "-t1", f"-c{CONNS}", "-d2s", "-s", script, url], capture_output=True)
        pids = pid_of(p)
        for pid in pids:
            subprocess.run(["callgrind_control", "-i", "on", str(pid)], capture_output=True)
        if workload == "head":
            w = python_load(port, "HEAD", 2000)
        else:
            r = subprocess.run(["wrk", "-t1", f"-c{CONNS}", f"-d{DURATION}s", "-s", script, url],
                               capture_output=True, text=True)
        for pid in pids:
            subprocess.run(["callgrind_control", "-i", "off", str(pid)], capture_output=True)
        if workload != "head":
            m = re.search(r"WRKJSON (\{.*\})", r.stdout)
            if not m:
                raise SystemExit(f"wrk failed: {r.stdout}{r.stderr}")
            w = json.loads(m.group(1))
        if w["non2xx"] or w["connect"] or w["read"] or w["write"] or w["timeout"]:
            raise SystemExit(f"{label} {workload}: errors under load: {w}")
    finally:
        p.send_signal(signal.SIGTERM if label.startswith("corsair") else signal.SIGQUIT)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    files = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith(f"cg.{label}.{workload}.")]
    ir = sum(total_ir(f) for f in files)
    return {"requests": w["requests"], "ir": ir, "ir_per_request": ir / max(w["requests"], 1)}


def main():
    out_path = sys.argv[1]
    tmp = os.environ.get("KEEP") or tempfile.mkdtemp(prefix="corsair-insn-")
    os.makedirs(tmp, exist_ok=True)
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(tmp, d))
    for name, body in LUA.items():
        with open(os.path.join(tmp, f"{name}.lua"), "w") as f:
            f.write(body + g.LUA_COMMON)
    with open(os.path.join(tmp, "corsair.toml"), "w") as f:
        f.write(g.CORSAIR_TOML)
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(g.nginx_conf(tmp).replace(f"worker_processes {g.NCPU};", "worker_processes 1;"))
    up = subprocess.Popen([g.UPSTREAM, f"127.0.0.1:{g.P_UP}"], stderr=subprocess.DEVNULL)
    results = {}
    try:
        g.wait_port(g.P_UP)
        env_cmd = ["env", "RUST_LOG=warn"]
        for w in WORKLOADS:
            r = measure(env_cmd + [g.CORSAIR, "serve", "--config", os.path.join(tmp, "corsair.toml")],
                        g.P_CORSAIR, lambda p: [p.pid], w, tmp, "corsair")
            results.setdefault(w, {})["corsair"] = r
            print(f"{w:<10} corsair {r['ir_per_request']:>9.0f} Ir/request ({r['requests']} requests)", flush=True)
            if os.environ.get("NGINX") == "1":
                def nginx_pids(p):
                    time.sleep(0.5)
                    return g.nginx_pids(p.pid)
                r = measure(["nginx", "-p", tmp, "-c", os.path.join(tmp, "nginx.conf"), "-g", "daemon off;"],
                            g.P_NGINX, nginx_pids, w, tmp, "nginx")
                results[w]["nginx"] = r
                print(f"{w:<10} nginx   {r['ir_per_request']:>9.0f} Ir/request ({r['requests']} requests)", flush=True)
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(5)
    json.dump({"duration_s": DURATION, "conns": CONNS, "corsair": g.CORSAIR, "results": results},
              open(out_path, "w"), indent=1)


if __name__ == "__main__":
    main()

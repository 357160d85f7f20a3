#!/usr/bin/env python3
"""User-space instructions per request of `corsair serve` (and, with
NGINX=1, of nginx) under valgrind's callgrind: deterministic for the same
binary and load, whatever else the machine is doing.

The gateway runs under callgrind with instrumentation off; after a warm-up
(pools filled, code paged in) instrumentation is switched on with
callgrind_control, wrk sends DURATION seconds of one workload, then it is
switched off again and the instructions counted are divided by the
requests wrk completed. Workloads and the policy are those of
bench/servers.py (preflight, actual, mixed).

    python3 bench/gateway_insn.py OUT.json      # CORSAIR=path/to/corsair to measure another build

Environment: CORSAIR, UPSTREAM (binaries, as bench/servers.py), DURATION (5),
CONNS (20), NGINX=1 (also measure nginx), WORKLOADS (preflight,actual,mixed),
KEEP=DIR (keep the callgrind files there, for callgrind_annotate).
"""
import json, os, re, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers as g  # noqa: E402

DURATION = int(os.environ.get("DURATION", "5"))
CONNS = int(os.environ.get("CONNS", "20"))
WORKLOADS = os.environ.get("WORKLOADS", "preflight,actual,mixed").split(",")


def total_ir(out_file):
    """The instructions counted in a callgrind output file (its `totals:`
    line; `summary:` stays 0 when instrumentation starts switched off)."""
    with open(out_file) as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit(f"no totals in {out_file}")


def poke(port):
    """One plain request, to wake an idle server."""
    try:
        g.http_get(port, "/")
    except OSError:
        pass


def switch(pid, state, port):
    """`callgrind_control -i STATE PID`. A process under valgrind takes the
    command only when it runs (vgdb cannot interrupt a blocked system call
    where ptrace is not allowed), and an idle nginx worker sleeps in
    epoll_wait with no timer: so the server is poked with a plain request
    every 100 ms until the command is taken. Returns the pokes sent, which
    may have run with instrumentation on and are counted as requests."""
    c = subprocess.Popen(["callgrind_control", "-i", state, str(pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pokes = 0
    while c.poll() is None:
        try:
            c.wait(0.1)
        except subprocess.TimeoutExpired:
            poke(port)
            pokes += 1
    return pokes


def measure(cmd, port, pid_of, workload, tmp, label):
    out = os.path.join(tmp, f"cg.{label}.{workload}.%p")
    # NGINX is this script's switch, and nginx reads it as inherited sockets.
    env = {k: v for k, v in os.environ.items() if k != "NGINX"}
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", "--trace-children=yes",
                          f"--callgrind-out-file={out}"] + cmd, env=env,
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, f"{label}.log"), "w"))
    try:
        g.wait_port(port, 60)
        script = os.path.join(tmp, f"{workload}.lua")
        url = f"http://127.0.0.1:{port}/items/1"
        subprocess.run(["wrk", "-t1", f"-c{CONNS}", "-d2s", "-s", script, url], capture_output=True)
        pids = pid_of(p)
        pokes = sum(switch(pid, "on", port) for pid in pids)
        r = subprocess.run(["wrk", "-t1", f"-c{CONNS}", f"-d{DURATION}s", "-s", script, url],
                           capture_output=True, text=True)
        pokes += sum(switch(pid, "off", port) for pid in pids)
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
    n = w["requests"] + pokes
    return {"requests": w["requests"], "pokes": pokes, "ir": ir, "ir_per_request": ir / max(n, 1)}


def main():
    out_path = sys.argv[1]
    tmp = os.environ.get("KEEP") or tempfile.mkdtemp(prefix="corsair-insn-")
    os.makedirs(tmp, exist_ok=True)
    g.write_lua(tmp)
    with open(os.path.join(tmp, "corsair.toml"), "w") as f:
        f.write(g.CORSAIR_TOML)
    # Workers as the invoking user: a worker that switches to `nobody` can no
    # longer open the FIFOs callgrind_control talks to it through.
    # (Only root's nginx switches users.)
    nginx_prefix, nginx_conf = g.nginx_dir(tmp, "nginx", {"workers": 1, "user": "root"} if os.getuid() == 0
                                           else {"workers": 1})
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
                    # Under valgrind the master is valgrind's process; its
                    # children are the workers.
                    return g.nginx_pids(p.pid)
                r = measure(["nginx", "-p", nginx_prefix, "-c", nginx_conf, "-g", "daemon off;"],
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

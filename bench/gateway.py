#!/usr/bin/env python3
"""Gateway load benchmark: the bench upstream directly, `corsair serve` in
front of it, and nginx in front of it (same CORS policy), loaded with wrk on
loopback, targets alternated round by round. Writes JSON to argv[1].

Environment: ROUNDS (3), DURATION seconds per run (6), CONNS (50),
THREADS (wrk threads, 1), CORSAIR (binary), UPSTREAM (binary).
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
DURATION = int(os.environ.get("DURATION", "6"))
CONNS = int(os.environ.get("CONNS", "50"))
THREADS = int(os.environ.get("THREADS", "1"))
CORSAIR = os.environ.get("CORSAIR", os.path.join(ROOT, "target/release/corsair"))
UPSTREAM = os.environ.get("UPSTREAM", os.path.join(ROOT, "target/release/examples/bench_upstream"))
P_UP, P_CORSAIR, P_NGINX, P_CORSAIR1 = 39080, 39081, 39082, 39083
ORIGIN = "https://app.example.com"
NCPU = os.cpu_count() or 1

# The one policy, for both gateways.
ORIGINS = [ORIGIN] + [f"https://app{i}.example.com" for i in range(1, 10)]
METHODS = ["GET", "POST", "PUT", "DELETE"]
HEADERS = ["content-type", "x-request-id"]
EXPOSE = ["x-request-id"]
MAX_AGE = 600

CORSAIR_TOML = f"""
listen = "127.0.0.1:{P_CORSAIR}"
upstream = "http://127.0.0.1:{P_UP}"

[[policy]]
name = "bench"
allow_origins = {json.dumps(ORIGINS)}
allow_methods = {json.dumps(METHODS)}
allow_headers = {json.dumps(HEADERS)}
expose_headers = {json.dumps(EXPOSE)}
allow_credentials = true
max_age = {MAX_AGE}
"""

# The same gateway with one worker thread (`workers = 1`), measured beside the
# default (one worker per core) for information: on a 2-core machine that wrk
# shares, fewer workers wake less often (bench/notes.md, stop 11). The
# verdicts use the default.
CORSAIR1_TOML = CORSAIR_TOML.replace(f'listen = "127.0.0.1:{P_CORSAIR}"',
                                     f'listen = "127.0.0.1:{P_CORSAIR1}"\nworkers = 1')
assert CORSAIR1_TOML != CORSAIR_TOML, "the listen line of CORSAIR_TOML changed"

def nginx_conf(tmp):
    origins = "\n".join(f'        "{o}" $http_origin;' for o in ORIGINS)
    creds = "\n".join(f'        "{o}" "true";' for o in ORIGINS)
    hide = "\n".join(f"        proxy_hide_header {h};" for h in [
        "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
        "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
        "Access-Control-Expose-Headers", "Access-Control-Max-Age",
        "Access-Control-Allow-Private-Network"])
    return f"""
worker_processes {NCPU};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 1000000;

    map $http_origin $cors_origin {{
        default "";
{origins}
    }}
    map $http_origin $cors_credentials {{
        default "";
{creds}
    }}
    upstream app {{
        server 127.0.0.1:{P_UP};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{P_NGINX};
        location / {{
            if ($request_method = OPTIONS) {{
                add_header Access-Control-Allow-Origin $cors_origin always;
                add_header Access-Control-Allow-Credentials $cors_credentials always;
                add_header Access-Control-Allow-Methods "{', '.join(METHODS)}" always;
                add_header Access-Control-Allow-Headers "{', '.join(HEADERS)}" always;
                add_header Access-Control-Max-Age {MAX_AGE} always;
                add_header Vary "Origin, Access-Control-Request-Method, Access-Control-Request-Headers" always;
                return 204;
            }}
            add_header Access-Control-Allow-Origin $cors_origin always;
            add_header Access-Control-Allow-Credentials $cors_credentials always;
            add_header Access-Control-Expose-Headers "{', '.join(EXPOSE)}" always;
            add_header Vary Origin always;
{hide}
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }}
    }}
}}
"""

LUA_COMMON = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%f,"max_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
"""

LUA = {
    "preflight": f"""
wrk.method = "OPTIONS"
wrk.headers["Origin"] = "{ORIGIN}"
wrk.headers["Access-Control-Request-Method"] = "PUT"
wrk.headers["Access-Control-Request-Headers"] = "content-type,x-request-id"
""",
    "actual": f"""
wrk.method = "GET"
wrk.headers["Origin"] = "{ORIGIN}"
""",
    # One preflight for every three actual requests (GET, POST-less to keep
    # bodies out of it), as a page that caches nothing would do at worst.
    "mixed": f"""
local reqs = {{}}
init = function(args)
  reqs[1] = wrk.format("OPTIONS", "/items/1", {{["Origin"] = "{ORIGIN}", ["Access-Control-Request-Method"] = "PUT", ["Access-Control-Request-Headers"] = "content-type"}})
  reqs[2] = wrk.format("GET", "/items/1", {{["Origin"] = "{ORIGIN}"}})
  reqs[3] = wrk.format("GET", "/items", {{["Origin"] = "{ORIGIN}"}})
  reqs[4] = wrk.format("PUT", "/items/1", {{["Origin"] = "{ORIGIN}", ["Content-Type"] = "application/json", ["Content-Length"] = "2"}}, "{{}}")
end
local i = 0
request = function()
  i = i % 4 + 1
  return reqs[i]
end
""",
}

def wait_port(port, timeout=15):
    t = time.time()
    while time.time() - t < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listening on {port}")

def rss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total

TICK = os.sysconf("SC_CLK_TCK")

def cpu_ticks(pids):
    """utime + stime of the processes (all their threads)."""
    t = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            t += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return t

def machine_ticks():
    """(all CPU ticks, steal ticks) of the whole machine, from /proc/stat:
    steal is the time the hypervisor ran someone else while this VM wanted
    the CPU, the noise that no pairing of rounds can cancel."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v[:8]), v[7] if len(v) > 7 else 0
    except (OSError, ValueError):
        return 0, 0

def nginx_pids(master):
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [master] + [int(x) for x in out]

def check(port, tmp):
    """Both gateways must actually apply the policy."""
    out = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "-X", "OPTIONS",
                          "-H", f"Origin: {ORIGIN}", "-H", "Access-Control-Request-Method: PUT",
                          "-H", "Access-Control-Request-Headers: content-type",
                          f"http://127.0.0.1:{port}/items/1"], capture_output=True, text=True).stdout.lower()
    act = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "-H", f"Origin: {ORIGIN}",
                          f"http://127.0.0.1:{port}/items/1"], capture_output=True, text=True).stdout.lower()
    bad = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "-H", "Origin: https://evil.example",
                          f"http://127.0.0.1:{port}/items/1"], capture_output=True, text=True).stdout.lower()
    ok = (f"access-control-allow-origin: {ORIGIN}" in out and " 204" in out.splitlines()[0]
          and f"access-control-allow-origin: {ORIGIN}" in act and "access-control-allow-credentials: true" in act
          and "access-control-allow-origin" not in bad)
    if not ok:
        print(out, act, bad, sep="\n---\n", file=sys.stderr)
        raise SystemExit(f"port {port}: the CORS policy is not applied as expected")

def run_wrk(port, workload, tmp, pids, cpu_pids):
    script = os.path.join(tmp, f"{workload}.lua")
    samples = []
    stop = threading.Event()
    def sample():
        while not stop.wait(0.25):
            samples.append(rss_kb(pids()))
    th = None
    if pids is not None:
        th = threading.Thread(target=sample); th.start()
    c0 = cpu_ticks(cpu_pids())
    m0 = machine_ticks()
    out = subprocess.run(["wrk", f"-t{THREADS}", f"-c{CONNS}", f"-d{DURATION}s", "--latency", "-s", script,
                          f"http://127.0.0.1:{port}/items/1"], capture_output=True, text=True)
    c1 = cpu_ticks(cpu_pids())
    m1 = machine_ticks()
    stop.set()
    if th: th.join()
    m = re.search(r"WRKJSON (\{.*\})", out.stdout)
    if not m:
        raise SystemExit(f"wrk failed on {port}: {out.stdout}\n{out.stderr}")
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["rss_kb_max"] = max(samples) if samples else None
    # CPU time of the server under test (for "direct", the upstream) per request.
    r["cpu_us_per_req"] = (c1 - c0) / TICK * 1e6 / max(r["requests"], 1)
    # The machine's CPU stolen by the hypervisor during the run, in percent.
    r["steal_pct"] = 100 * (m1[1] - m0[1]) / max(m1[0] - m0[0], 1)
    return r

def main():
    out_path = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="corsair-bench-")
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(tmp, d))
    for name, body in LUA.items():
        with open(os.path.join(tmp, f"{name}.lua"), "w") as f:
            f.write(body + LUA_COMMON)
    for name, text in (("corsair.toml", CORSAIR_TOML), ("corsair1.toml", CORSAIR1_TOML)):
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(nginx_conf(tmp))
    shutil.copy(os.path.join(tmp, "nginx.conf"), os.path.join(os.path.dirname(out_path), "nginx.conf"))
    shutil.copy(os.path.join(tmp, "corsair.toml"), os.path.join(os.path.dirname(out_path), "corsair.toml"))
    procs = []
    try:
        up = subprocess.Popen([UPSTREAM, f"127.0.0.1:{P_UP}"], stderr=subprocess.DEVNULL)
        procs.append(up)
        wait_port(P_UP)
        env = dict(os.environ, RUST_LOG="warn")
        def corsair(name):
            p = subprocess.Popen([CORSAIR, "serve", "--config", os.path.join(tmp, f"{name}.toml")],
                                 stderr=open(os.path.join(tmp, f"{name}.log"), "w"), env=env)
            procs.append(p)
            return p
        cs, cs1 = corsair("corsair"), corsair("corsair1")
        nx = subprocess.Popen(["nginx", "-p", tmp, "-c", os.path.join(tmp, "nginx.conf"), "-g", "daemon off;"],
                              stderr=open(os.path.join(tmp, "nginx.log"), "w"))
        procs.append(nx)
        wait_port(P_CORSAIR); wait_port(P_NGINX); wait_port(P_CORSAIR1)
        check(P_CORSAIR, tmp); check(P_NGINX, tmp); check(P_CORSAIR1, tmp)
        # corsair and nginx are neighbours in both orders, and so are nginx and corsair-1w.
        targets = [("direct", P_UP, None, lambda: [up.pid]), ("corsair", P_CORSAIR, lambda: [cs.pid], lambda: [cs.pid]),
                   ("nginx", P_NGINX, lambda: nginx_pids(nx.pid), lambda: nginx_pids(nx.pid)),
                   ("corsair-1w", P_CORSAIR1, lambda: [cs1.pid], lambda: [cs1.pid])]
        idle = {"corsair": rss_kb([cs.pid]), "nginx": rss_kb(nginx_pids(nx.pid)), "corsair-1w": rss_kb([cs1.pid])}
        results = {w: {t[0]: [] for t in targets} for w in LUA}
        # Warm-up: a short run on each, to fill pools and page in code.
        for _, port, _, _ in targets:
            subprocess.run(["wrk", "-t1", f"-c{CONNS}", "-d1s", f"http://127.0.0.1:{port}/"], capture_output=True)
        loads = []
        for rnd in range(ROUNDS):
            for w in LUA:
                order = targets if rnd % 2 == 0 else targets[::-1]
                for name, port, pids, cpids in order:
                    r = run_wrk(port, w, tmp, pids, cpids)
                    results[w][name].append(r)
                    print(f"round {rnd+1} {w:<9} {name:<10} {r['rps']:>10.0f} req/s  p50 {r['p50_us']:>6} us  "
                          f"p99 {r['p99_us']:>6} us  cpu {r['cpu_us_per_req']:5.1f} us/req  non2xx {r['non2xx']}  rss {r['rss_kb_max']} kB  steal {r['steal_pct']:.1f}%", flush=True)
            loads.append(os.getloadavg()[0])
        json.dump({"results": results, "idle_rss_kb": idle, "loadavg_after_rounds": loads,
                   "duration_s": DURATION, "conns": CONNS, "threads": THREADS, "rounds": ROUNDS,
                   "origins": len(ORIGINS)}, open(out_path, "w"), indent=1)
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM if p is not procs[-1] else signal.SIGQUIT)
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The shared part of the gateway benchmarks (bench/gateway.py,
bench/pinned.py, bench/tls.py, bench/gateway_insn.py): the one CORS policy,
both gateways' configs (`corsair serve` and nginx's recipe), starting and
stopping them and the upstream, wrk's Lua workloads, /proc sampling.

Environment: DURATION seconds per run (6), CONNS (50), THREADS (wrk threads,
1), CORSAIR and UPSTREAM (binaries), BENCH_RES (where copies of the configs
go: bench/results).
"""
import json, os, re, signal, socket, subprocess, sys, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DURATION = int(os.environ.get("DURATION", "6"))
CONNS = int(os.environ.get("CONNS", "50"))
THREADS = int(os.environ.get("THREADS", "1"))
CORSAIR = os.environ.get("CORSAIR", os.path.join(ROOT, "target/release/corsair"))
UPSTREAM = os.environ.get("UPSTREAM", os.path.join(ROOT, "target/release/examples/bench_upstream"))
RES = os.environ.get("BENCH_RES", os.path.join(ROOT, "bench", "results"))
# Ports below the kernel's ephemeral range (32768-60999 by default), where a
# client connection's local port could take one of them at any moment.
P_UP, P_CORSAIR, P_NGINX, P_CORSAIR1 = 28080, 28081, 28082, 28083
# Admin (/metrics) and stub_status ports, to count the connections each run opens.
P_ADMIN, P_STATUS, P_ADMIN1 = 28091, 28092, 28093
ORIGIN = "https://app.example.com"
NCPU = os.cpu_count() or 1

# The one policy, for both gateways.
ORIGINS = [ORIGIN] + [f"https://app{i}.example.com" for i in range(1, 10)]
METHODS = ["GET", "POST", "PUT", "DELETE"]
HEADERS = ["content-type", "x-request-id"]
EXPOSE = ["x-request-id"]
MAX_AGE = 600


def corsair_toml(port, workers=None, tls=None, admin=None, upstream_port=P_UP):
    """The gateway's config: the one policy; `workers` threads (None: one per
    core); `tls` a (cert, key) pair; `admin` the port of `/metrics` (its
    `corsair_connections_total` counts the client connections accepted)."""
    head = f'listen = "127.0.0.1:{port}"\nupstream = "http://127.0.0.1:{upstream_port}"\n'
    if workers is not None:
        head += f"workers = {workers}\n"
    if tls:
        head += f'\n[tls]\ncert = "{tls[0]}"\nkey = "{tls[1]}"\n'
    if admin:
        head += f'\n[admin]\nlisten = "127.0.0.1:{admin}"\n'
    return head + f"""
[[policy]]
name = "bench"
allow_origins = {json.dumps(ORIGINS)}
allow_methods = {json.dumps(METHODS)}
allow_headers = {json.dumps(HEADERS)}
expose_headers = {json.dumps(EXPOSE)}
allow_credentials = true
max_age = {MAX_AGE}
"""


CORSAIR_TOML = corsair_toml(P_CORSAIR)
# The same gateway with one worker thread (`workers = 1`), measured beside the
# default (one worker per core) for information: on a 2-core machine that wrk
# shares, fewer workers wake less often (bench/notes.md, stop 11). The
# verdicts use the default.
CORSAIR1_TOML = corsair_toml(P_CORSAIR1, workers=1)

NGINX_TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_conf(tmp, port=P_NGINX, workers=NCPU, tls=None, status_port=None, upstream_port=P_UP, user=None):
    """nginx's CORS recipe for the same policy, in prefix directory `tmp`
    (its pid file, logs and temp directories live there). `tls`: a (cert,
    key) pair, then the listener is `ssl http2`. `status_port`: a second
    server with `stub_status`, whose `accepts` counts client connections.

    Fairness: `keepalive_requests` (default 1,000) would make nginx close a
    client connection every 1,000 requests and send an HTTP/2 GOAWAY after
    1,000 streams (nginx >= 1.19.7 bounds both with it); set at `http` level,
    every server inherits it. The upstream block's own `keepalive_requests`
    (default 1,000 since 1.15.3) would likewise recycle nginx's upstream
    connections; corsair's pool bounds neither. `user`: the workers' user
    (nginx's default when started as root: nobody)."""
    origins = "\n".join(f'        "{o}" $http_origin;' for o in ORIGINS)
    creds = "\n".join(f'        "{o}" "true";' for o in ORIGINS)
    hide = "\n".join(f"        proxy_hide_header {h};" for h in [
        "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
        "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
        "Access-Control-Expose-Headers", "Access-Control-Max-Age",
        "Access-Control-Allow-Private-Network"])
    listen = f"listen 127.0.0.1:{port}" + (" ssl http2" if tls else "") + ";"
    if tls:
        listen += f"""
        ssl_certificate {tls[0]};
        ssl_certificate_key {tls[1]};
        ssl_protocols TLSv1.2 TLSv1.3;"""
    status = f"""
    server {{
        listen 127.0.0.1:{status_port};
        location = /status {{ stub_status; }}
    }}""" if status_port else ""
    return (f"user {user};\n" if user else "") + f"""
worker_processes {workers};
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
        server 127.0.0.1:{upstream_port};
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        {listen}
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
    }}{status}
}}
"""


def nginx_dir(tmp, name, conf_kwargs):
    """Writes nginx instance `name`'s prefix directory under `tmp` (config
    and temp directories) and returns (directory, config path)."""
    d = os.path.join(tmp, name)
    for sub in NGINX_TEMP_DIRS:
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf(d, **conf_kwargs))
    return d, conf


def start_nginx(tmp, name, taskset=None, **conf_kwargs):
    d, conf = nginx_dir(tmp, name, conf_kwargs)
    cmd = ["nginx", "-p", d, "-c", conf, "-g", "daemon off;"]
    p = subprocess.Popen(pin(taskset) + cmd, stderr=open(os.path.join(d, "nginx.log"), "w"))
    p.bench_log = os.path.join(d, "error.log")
    return p


def start_corsair(tmp, name, taskset=None, **toml_kwargs):
    path = os.path.join(tmp, f"{name}.toml")
    with open(path, "w") as f:
        f.write(corsair_toml(**toml_kwargs))
    p = subprocess.Popen(pin(taskset) + [CORSAIR, "serve", "--config", path],
                         stderr=open(os.path.join(tmp, f"{name}.log"), "w"), env=dict(os.environ, RUST_LOG="warn"))
    p.bench_log = os.path.join(tmp, f"{name}.log")
    return p


def start_upstream(port=P_UP, taskset=None, workers=None):
    cmd = [UPSTREAM, f"127.0.0.1:{port}"] + ([str(workers)] if workers else [])
    return subprocess.Popen(pin(taskset) + cmd, stderr=subprocess.DEVNULL)


def pin(cpus):
    """`taskset -c CPUS` as a command prefix (threads and children inherit it)."""
    return ["taskset", "-c", str(cpus)] if cpus is not None else []


def stop(procs):
    """SIGTERM for corsair and the upstream, SIGQUIT (graceful) for nginx."""
    for p in reversed(procs):
        try:
            p.send_signal(signal.SIGQUIT if "nginx" in p.args else signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def http_get(port, path):
    with socket.create_connection(("127.0.0.1", port), 2) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1")


def connections_counter(kind, port):
    """A function returning the client connections the server has accepted
    so far: corsair's `corsair_connections_total` (its admin listener is not
    counted); nginx's stub_status `accepts`, which counts every status
    request's own connection too (so the status requests made so far are
    subtracted)."""
    queries = 0

    def corsair():
        m = re.search(r"^corsair_connections_total (\d+)", http_get(port, "/metrics"), re.M)
        return int(m.group(1)) if m else None

    def nginx():
        nonlocal queries
        queries += 1
        m = re.search(r"^[ \t]*(\d+)[ \t]+(\d+)[ \t]+(\d+)[ \t]*\r?$", http_get(port, "/status"), re.M)
        return int(m.group(1)) - queries if m else None
    return corsair if kind == "corsair" else nginx


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
    # One preflight for every three actual requests (two GETs and a PUT with
    # a 2-byte body), as a page that caches nothing would do at worst.
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

def wait_port(port, timeout=15, proc=None):
    """Waits until `port` accepts connections; `proc`: the process that
    should listen there, whose log is shown if it exits or never listens."""
    t = time.time()
    while time.time() - t < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.05)
    log = getattr(proc, "bench_log", None)
    detail = open(log).read()[-3000:] if log and os.path.exists(log) else ""
    raise SystemExit(f"nothing listening on {port}\n{detail}")


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
    """(utime, stime) of the processes, all their threads, in clock ticks."""
    u = s = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            u += int(fields[11])
            s += int(fields[12])
        except OSError:
            pass
    return u, s


def sched_ns(pids):
    """Time on a CPU of every thread of the processes, in ns (the first field
    of /proc/PID/task/TID/schedstat): a cross-check of utime + stime that does
    not depend on the clock tick's sampling."""
    t = 0
    for p in pids:
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/schedstat") as f:
                    t += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
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
    """The master and its children (the workers), from /proc, without
    starting a process (the samplers call it while loads run)."""
    try:
        with open(f"/proc/{master}/task/{master}/children") as f:
            return [master] + [int(x) for x in f.read().split()]
    except OSError:
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        return [master] + [int(x) for x in out]


class Target:
    """A server under load: its name in the results, the port it serves, its
    process (nginx: the master, whose children are counted with it) and, for
    the gateways, a counter of the client connections it has accepted."""

    def __init__(self, name, port, proc, kind, counter=None):
        self.name, self.port, self.proc, self.kind, self.counter = name, port, proc, kind, counter

    def pids(self):
        return nginx_pids(self.proc.pid) if self.kind == "nginx" else [self.proc.pid]

    def connections(self):
        if self.counter is None:
            return None
        try:
            return self.counter()
        except OSError:
            return None


class Measure:
    """Samples a target around one load run: RSS every 250 ms, CPU time
    (utime, stime, schedstat), the machine's steal, connections accepted."""

    def __init__(self, target, rss=True):
        self.target, self.rss = target, rss

    def __enter__(self):
        self.samples, self.stop = [], threading.Event()
        def sample():
            while not self.stop.wait(0.25):
                self.samples.append(rss_kb(self.target.pids()))
        self.th = threading.Thread(target=sample) if self.rss else None
        if self.th:
            self.th.start()
        self.conns0 = self.target.connections()
        pids = self.target.pids()
        self.c0, self.n0, self.m0 = cpu_ticks(pids), sched_ns(pids), machine_ticks()
        return self

    def __exit__(self, *exc):
        pids = self.target.pids()
        self.c1, self.n1, self.m1 = cpu_ticks(pids), sched_ns(pids), machine_ticks()
        self.stop.set()
        if self.th:
            self.th.join()
        self.conns1 = self.target.connections()
        return False

    def fill(self, r):
        """Adds the samples to result `r`, whose "requests" are the requests served."""
        n = max(r["requests"], 1)
        u, s = self.c1[0] - self.c0[0], self.c1[1] - self.c0[1]
        r["rss_kb_max"] = max(self.samples) if self.samples else None
        # CPU time of the server under test (for "direct", the upstream) per request.
        r["cpu_us_per_req"] = (u + s) / TICK * 1e6 / n
        r["user_us_per_req"] = u / TICK * 1e6 / n
        r["sys_us_per_req"] = s / TICK * 1e6 / n
        r["sched_us_per_req"] = (self.n1 - self.n0) / 1e3 / n
        # The machine's CPU stolen by the hypervisor during the run, in percent.
        r["steal_pct"] = 100 * (self.m1[1] - self.m0[1]) / max(self.m1[0] - self.m0[0], 1)
        if self.conns0 is not None and self.conns1 is not None:
            r["connections"] = self.conns1 - self.conns0
        return r


def curl_headers(url, *args):
    return subprocess.run(["curl", "-s", "-k", "-D", "-", "-o", "/dev/null", *args, url],
                          capture_output=True, text=True).stdout.lower()


def check(base, *curl_args):
    """Both gateways must actually apply the policy (`base`: the scheme,
    host and port; `curl_args`: e.g. `--http2`)."""
    url = f"{base}/items/1"
    out = curl_headers(url, *curl_args, "-X", "OPTIONS", "-H", f"Origin: {ORIGIN}",
                       "-H", "Access-Control-Request-Method: PUT",
                       "-H", "Access-Control-Request-Headers: content-type")
    act = curl_headers(url, *curl_args, "-H", f"Origin: {ORIGIN}")
    bad = curl_headers(url, *curl_args, "-H", "Origin: https://evil.example")
    first = out.splitlines()[0] if out else ""
    ok = (f"access-control-allow-origin: {ORIGIN}" in out and " 204" in first
          and f"access-control-allow-origin: {ORIGIN}" in act and "access-control-allow-credentials: true" in act
          and "access-control-allow-origin" not in bad)
    if not ok:
        print(out, act, bad, sep="\n---\n", file=sys.stderr)
        raise SystemExit(f"{base}: the CORS policy is not applied as expected")
    return first.split(" ")[0]


def write_lua(tmp):
    for name, body in LUA.items():
        with open(os.path.join(tmp, f"{name}.lua"), "w") as f:
            f.write(body + LUA_COMMON)


def run_wrk(target, workload, tmp, conns=None, taskset=None, rss=True):
    """One wrk run of `workload` against `target`; `taskset`: the CPUs wrk
    runs on."""
    script = os.path.join(tmp, f"{workload}.lua")
    with Measure(target, rss=rss) as m:
        out = subprocess.run(pin(taskset) + ["wrk", f"-t{THREADS}", f"-c{conns or CONNS}", f"-d{DURATION}s",
                                             "--latency", "-s", script,
                                             f"http://127.0.0.1:{target.port}/items/1"],
                             capture_output=True, text=True)
    mt = re.search(r"WRKJSON (\{.*\})", out.stdout)
    if not mt:
        raise SystemExit(f"wrk failed on {target.name}: {out.stdout}\n{out.stderr}")
    r = json.loads(mt.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return m.fill(r)


def line(rnd, w, r, name):
    """One printed line per run."""
    c = r.get("connections")
    return (f"round {rnd + 1} {w:<9} {name:<10} {r['rps']:>10.0f} req/s  p50 {r['p50_us']:>6} us  "
            f"p99 {r['p99_us']:>6} us  cpu {r['cpu_us_per_req']:5.1f} us/req  non2xx {r.get('non2xx', 0)}  "
            f"rss {r['rss_kb_max']} kB  conns {c if c is not None else '-'}  steal {r['steal_pct']:.1f}%")

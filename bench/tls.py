#!/usr/bin/env python3
"""Gateway load benchmark over TLS + HTTP/2, the protocols browsers speak:
`corsair serve` with `[tls]` and nginx with `listen ... ssl http2`, the same
self-signed certificate (made with openssl for the run), the same policy and
upstream as bench/gateway.py, loaded with h2load (Debian's nghttp2-client)
on loopback; corsair and nginx alternate run by run, order reversed every
other round. Writes JSON to argv[1].

Workloads (h2load, `-t1`, H2_CONNS connections x H2_STREAMS streams):
- preflight: OPTIONS with Origin, ACRM PUT, ACRH, for DURATION seconds;
- actual: GET with an allowed Origin, for DURATION seconds;
- mixed: wrk's mix (1 preflight : 2 GETs : 1 PUT with a 2-byte body).
  h2load sends one method and one header set per process, so the mix is
  three h2load processes started together, their connections split 1:2:1
  (preflights, GETs on /items/1 and /items in turn, PUTs), every connection
  doing the same number of requests (H2_MIX_PER_CONN; by default sized from
  the warm-up's rates so that a run lasts about DURATION). Both gateways
  serve exactly the same requests; req/s is all of them over the span from
  the first request's start to the last response's end, so a gateway that
  is slower on one kind pays for it in the tail. (Two processes running for
  a fixed time would let the faster kind take a larger share of the mix, a
  different share on each gateway.)
- churn: a new TLS connection every CHURN_REQS requests, so that handshakes
  dominate. h2load makes no new connection on its own in a timed run, so
  CHURN_LOOPS loops run h2load one after the other for DURATION seconds,
  each run opening CHURN_CONNS connections at once that each send
  CHURN_REQS GETs one at a time (`-m1`) and close; req/s is the requests of
  all runs over the wall time. Every connection is a full handshake: h2load
  keeps no TLS session to resume.

p50/p99 come from h2load's `--log-file` (time from a request's submission to
the end of its response; for churn the handshake is before the first
request: its mean is reported apart, from h2load's "time for connect" and
"time to 1st byte"). RSS is sampled every 250 ms from /proc; CPU per request
is the server's utime + stime over the run.

Environment: H2_ROUNDS (ROUNDS, 3), H2_CONNS (32, a multiple of 4),
H2_STREAMS (10), H2_MIX_PER_CONN, CHURN_CONNS (50), CHURN_REQS (4),
CHURN_LOOPS (2), TLS_KEY (ec: ECDSA P-256; rsa: RSA 2048), and those of
bench/servers.py.
"""
import json, math, os, resource, shutil, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import h2load  # noqa: E402
import servers as s  # noqa: E402

ROUNDS = int(os.environ.get("H2_ROUNDS", os.environ.get("ROUNDS", "3")))
CONNS = int(os.environ.get("H2_CONNS", "32"))
STREAMS = int(os.environ.get("H2_STREAMS", "10"))
MIX_PER_CONN = os.environ.get("H2_MIX_PER_CONN")
CHURN_CONNS = int(os.environ.get("CHURN_CONNS", "50"))
CHURN_REQS = int(os.environ.get("CHURN_REQS", "4"))
CHURN_LOOPS = int(os.environ.get("CHURN_LOOPS", "2"))
TLS_KEY = os.environ.get("TLS_KEY", "ec")
P_UP, P_CORSAIR, P_NGINX, P_ADMIN, P_STATUS = 28280, 28281, 28282, 28291, 28292

ORIGIN = f"origin: {s.ORIGIN}"
PREFLIGHT = [":method: OPTIONS", ORIGIN, "access-control-request-method: PUT",
             "access-control-request-headers: content-type,x-request-id"]
ACTUAL = [ORIGIN]
# (share of the connections, headers, paths used in turn, body): wrk's mix.
MIX = [(1, [":method: OPTIONS", ORIGIN, "access-control-request-method: PUT",
            "access-control-request-headers: content-type"], ("/items/1",), False),
       (2, [ORIGIN], ("/items/1", "/items"), False),
       (1, [":method: PUT", ORIGIN, "content-type: application/json"], ("/items/1",), True)]
WORKLOADS = ("preflight", "actual", "mixed", "churn")


def make_cert(tmp):
    """A self-signed certificate for 127.0.0.1 and localhost, both servers'."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if TLS_KEY == "ec" else ["-newkey", "rsa:2048"]
    subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def timed(target, headers, tmp, duration=None, rss=True):
    """One timed h2load run (DURATION seconds) of one request shape."""
    log = os.path.join(tmp, f"{target.name}.log.tsv")
    cmd = h2load.command(target.port, headers, CONNS, STREAMS, log, duration=duration or s.DURATION)
    with s.Measure(target, rss=rss) as m:
        r = h2load.run(cmd)
    durs, failed, _, _ = h2load.read_logs([log])
    os.remove(log)
    r.update(h2load.latency(durs))
    r["requests"] = r["succeeded"]
    r["rps"] = r["h2load_rps"]
    r["failed_streams"] = failed
    return m.fill(r)


def mixed(target, per_conn, tmp):
    """The mix: three h2load processes started together (see the docstring)."""
    body = os.path.join(tmp, "body.json")
    with open(body, "w") as f:
        f.write("{}")
    unit = CONNS // sum(share for share, _, _, _ in MIX)
    jobs = []
    for i, (share, headers, paths, data) in enumerate(MIX):
        c = unit * share
        log = os.path.join(tmp, f"{target.name}.mix{i}.tsv")
        cmd = h2load.command(target.port, headers, c, STREAMS, log, requests=c * per_conn, paths=paths,
                             data=body if data else None)
        jobs.append((cmd, log))
    outs, errors = [None] * len(jobs), []

    def go(i):
        try:
            outs[i] = h2load.run(jobs[i][0])
        except SystemExit as e:  # a thread would swallow it
            errors.append(str(e))
    with s.Measure(target) as m:
        threads = [threading.Thread(target=go, args=(i,)) for i in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors or any(o is None for o in outs):
        raise SystemExit(f"mixed on {target.name}: " + "\n".join(errors))
    durs, failed, first, last = h2load.read_logs([log for _, log in jobs])
    for _, log in jobs:
        os.remove(log)
    r = {"parts": outs, "requests": sum(o["succeeded"] for o in outs), "failed_streams": failed,
         "span_us": last - first}
    r["rps"] = r["requests"] / (r["span_us"] / 1e6)
    r.update(h2load.latency(durs))
    for k in ("tls", "cipher", "alpn", "temp_key"):
        r[k] = outs[0].get(k)
    return m.fill(r)


def churn(target, tmp):
    """CHURN_LOOPS loops of short h2load runs for DURATION seconds."""
    runs, errors, lock = [], [], threading.Lock()
    logs = [os.path.join(tmp, f"{target.name}.churn{i}.tsv") for i in range(CHURN_LOOPS)]
    n = CHURN_CONNS * CHURN_REQS

    def loop(i, deadline):
        try:
            while time.monotonic() < deadline:
                r = h2load.run(h2load.command(target.port, ACTUAL, CHURN_CONNS, 1, logs[i], requests=n))
                with lock:
                    runs.append(r)
        except SystemExit as e:  # a thread would swallow it
            errors.append(str(e))
    with s.Measure(target) as m:
        # The h2load runs are this process's only children that end here.
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        threads = [threading.Thread(target=loop, args=(i, t0 + s.DURATION)) for i in range(CHURN_LOOPS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if errors:
        raise SystemExit(f"churn on {target.name}: " + "\n".join(errors))
    durs, failed, _, _ = h2load.read_logs([p for p in logs if os.path.exists(p)])
    for p in logs:
        if os.path.exists(p):
            os.remove(p)
    conns = CHURN_CONNS * len(runs)
    r = {"requests": sum(x["succeeded"] for x in runs), "failed_streams": failed, "wall_s": wall,
         "h2load_runs": len(runs), "client_connections": conns}
    r["rps"] = r["requests"] / wall
    r["handshakes_per_s"] = conns / wall
    r["client_cpu_us_per_conn"] = ((c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)) * 1e6 / max(conns, 1)
    r.update(h2load.latency(durs))
    for k in ("connect_mean_us", "ttfb_mean_us"):
        xs = [x[k] for x in runs if x.get(k) is not None]
        r[k] = sum(xs) / len(xs) if xs else None
    for k in ("tls", "cipher", "alpn", "temp_key"):
        r[k] = runs[0].get(k) if runs else None
    m.fill(r)
    r["cpu_us_per_conn"] = r["cpu_us_per_req"] * r["requests"] / max(conns, 1)
    return r


def run(target, workload, tmp, per_conn):
    if workload == "preflight":
        return timed(target, PREFLIGHT, tmp)
    if workload == "actual":
        return timed(target, ACTUAL, tmp)
    if workload == "mixed":
        return mixed(target, per_conn, tmp)
    return churn(target, tmp)


def mix_per_conn(rates):
    """Requests per connection for a mixed run of about DURATION seconds,
    from the warm-up's preflight and actual rates of each gateway (the
    geometric mean of the gateways' expected mix rates)."""
    if MIX_PER_CONN:
        return int(MIX_PER_CONN)
    est = [1 / (0.25 / r["preflight"] + 0.75 / r["actual"]) for r in rates.values()]
    mix_rate = math.exp(sum(math.log(x) for x in est) / len(est))
    return max(STREAMS, int(s.DURATION * mix_rate / CONNS))


def main():
    out_path = sys.argv[1]
    if CONNS % 4:
        raise SystemExit("H2_CONNS must be a multiple of 4 (the mix splits connections 1:2:1)")
    os.makedirs(s.RES, exist_ok=True)
    # h2load's per-request logs are large: memory, not disk, when there is one.
    tmp = tempfile.mkdtemp(prefix="corsair-tls-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    procs = []
    try:
        tls = make_cert(tmp)
        up = s.start_upstream(P_UP)
        procs.append(up)
        s.wait_port(P_UP)
        cs = s.start_corsair(tmp, "corsair", port=P_CORSAIR, tls=tls, admin=P_ADMIN, upstream_port=P_UP)
        nx = s.start_nginx(tmp, "nginx", port=P_NGINX, tls=tls, status_port=P_STATUS, upstream_port=P_UP)
        procs += [cs, nx]
        for port, p in ((P_CORSAIR, cs), (P_NGINX, nx), (P_ADMIN, cs), (P_STATUS, nx)):
            s.wait_port(port, proc=p)
        shutil.copy(os.path.join(tmp, "nginx", "nginx.conf"), os.path.join(s.RES, "nginx-tls.conf"))
        shutil.copy(os.path.join(tmp, "corsair.toml"), os.path.join(s.RES, "corsair-tls.toml"))
        for port in (P_CORSAIR, P_NGINX):
            proto = s.check(f"https://127.0.0.1:{port}", "--http2")
            if proto != "http/2":
                raise SystemExit(f"port {port}: curl --http2 got {proto}, not HTTP/2")
        targets = [s.Target("corsair", P_CORSAIR, cs, "corsair", s.connections_counter("corsair", P_ADMIN)),
                   s.Target("nginx", P_NGINX, nx, "nginx", s.connections_counter("nginx", P_STATUS))]
        idle = {t.name: s.rss_kb(t.pids()) for t in targets}
        # Warm-up, and the rates the mix is sized from.
        rates = {}
        for t in targets:
            rates[t.name] = {"preflight": timed(t, PREFLIGHT, tmp, duration=1, rss=False)["rps"],
                             "actual": timed(t, ACTUAL, tmp, duration=1, rss=False)["rps"]}
        per_conn = mix_per_conn(rates)
        print(f"tls: warm-up rates {rates}; mixed: {per_conn} requests per connection", flush=True)
        results = {w: {t.name: [] for t in targets} for w in WORKLOADS}
        loads = []
        for rnd in range(ROUNDS):
            for w in WORKLOADS:
                order = targets if rnd % 2 == 0 else targets[::-1]
                for t in order:
                    r = run(t, w, tmp, per_conn)
                    if r.get("alpn") != "h2":
                        raise SystemExit(f"{t.name}: h2load negotiated {r.get('alpn')!r}, not h2")
                    r["non2xx"] = r["failed_streams"]
                    results[w][t.name].append(r)
                    extra = (f"  {r['handshakes_per_s']:.0f} handshakes/s  cpu {r['cpu_us_per_conn']:.0f} us/conn"
                             f"  h2load cpu {r['client_cpu_us_per_conn']:.0f} us/conn" if w == "churn" else "")
                    print(s.line(rnd, w, r, t.name) + extra, flush=True)
            loads.append(os.getloadavg()[0])
        first = results["actual"]["corsair"][0]
        json.dump({"results": results, "idle_rss_kb": idle, "loadavg_after_rounds": loads,
                   "duration_s": s.DURATION, "conns": CONNS, "streams": STREAMS, "rounds": ROUNDS,
                   "mix_per_conn": per_conn, "warmup_rates": rates,
                   "churn": {"conns": CHURN_CONNS, "requests_per_conn": CHURN_REQS, "loops": CHURN_LOOPS},
                   "tls": {"key": "ECDSA P-256" if TLS_KEY == "ec" else "RSA 2048", "protocol": first.get("tls"),
                           "cipher": first.get("cipher"), "temp_key": first.get("temp_key")},
                   "origins": len(s.ORIGINS)}, open(out_path, "w"), indent=1)
    finally:
        s.stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Running h2load (Debian's nghttp2-client) and reading what it measured,
for bench/tls.py.

h2load prints min/max/mean/sd of its request times, not percentiles: every
run writes `--log-file` (one line per request: start in µs since the epoch,
status or -1 for a failed stream, µs until the end of the response), from
which p50/p99, failures and the span of the run are computed here.
"""
import math, re, subprocess

UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6}


def command(port, headers, conns, streams, log, duration=None, requests=None, paths=("/items/1",),
            data=None, threads=1):
    """h2load's command line: `duration` seconds (timing-based) or
    `requests` in all (each of the `conns` clients does requests / conns of
    them, then closes its connection); `paths` are used in turn by every
    client; `data`: a file sent as the body (h2load then says POST unless a
    `:method` header overrides it)."""
    cmd = ["h2load", f"-t{threads}", f"-c{conns}", f"-m{streams}", f"--log-file={log}"]
    cmd += ["-D", str(duration)] if duration else ["-n", str(requests)]
    if data:
        cmd += ["-d", data]
    for h in headers:
        cmd += ["-H", h]
    return cmd + [f"https://127.0.0.1:{port}{paths[0]}"] + [f"https://127.0.0.1:{port}{p}" for p in paths[1:]]


def _time(v):
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def parse(stdout):
    """What h2load printed: totals, TLS parameters and the connect / first
    byte times (µs)."""
    r = {}
    m = re.search(r"finished in ([\d.]+)(us|ms|s), ([\d.]+) req/s", stdout)
    if m:
        r["finished_us"] = float(m.group(1)) * UNITS[m.group(2)]
        r["h2load_rps"] = float(m.group(3))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", stdout)
    if m:
        for k, v in zip(("total", "started", "done", "succeeded", "failed", "errored", "timeout"), m.groups()):
            r[k] = int(v)
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", stdout)
    if m:
        r["status"] = dict(zip(("2xx", "3xx", "4xx", "5xx"), map(int, m.groups())))
    for key, label in (("tls", "TLS Protocol"), ("cipher", "Cipher"), ("temp_key", "Server Temp Key"),
                       ("alpn", "Application protocol")):
        m = re.search(rf"^{label}: (.*)$", stdout, re.M)
        if m:
            r[key] = m.group(1).strip()
    for key, label in (("connect", "time for connect"), ("ttfb", "time to 1st byte")):
        m = re.search(rf"^{label}:\s+(\S+)\s+(\S+)\s+(\S+)", stdout, re.M)
        if m:
            r[f"{key}_min_us"], r[f"{key}_max_us"], r[f"{key}_mean_us"] = (_time(x) for x in m.groups())
    return r


def run(cmd):
    """Runs h2load; its parsed output, or SystemExit with what it printed."""
    out = subprocess.run(cmd, capture_output=True, text=True)
    r = parse(out.stdout)
    if out.returncode != 0 or "succeeded" not in r:
        raise SystemExit(f"h2load failed ({' '.join(cmd)}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return r


def read_logs(paths):
    """Every request of the logs: (durations in µs of the successful ones,
    failed count, first start, last end), times in µs since the epoch."""
    durs, failed, first, last = [], 0, None, None
    for path in paths:
        with open(path) as f:
            for ln in f:
                parts = ln.split("\t")
                if len(parts) < 3:
                    continue
                start, status, dur = int(parts[0]), int(parts[1]), int(parts[2])
                if status < 200 or status >= 400:
                    failed += 1
                else:
                    durs.append(dur)
                first = start if first is None or start < first else first
                end = start + dur
                last = end if last is None or end > last else last
    return durs, failed, first, last


def percentile(sorted_xs, p):
    """The nearest-rank percentile of a sorted list."""
    if not sorted_xs:
        return None
    k = min(len(sorted_xs) - 1, max(0, math.ceil(p / 100 * len(sorted_xs)) - 1))
    return sorted_xs[k]


def latency(durs):
    xs = sorted(durs)
    return {"p50_us": percentile(xs, 50), "p90_us": percentile(xs, 90), "p99_us": percentile(xs, 99),
            "max_us": xs[-1] if xs else None, "mean_us": sum(xs) / len(xs) if xs else None}

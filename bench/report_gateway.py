#!/usr/bin/env python3
"""BENCHMARKS.md, the plaintext HTTP/1.1 sections: CPU per request with the
server pinned (the verdict, bench/pinned.py) and requests/s unpinned
(information, bench/gateway.py). Also the per-target summary that the TLS
section shares."""
import json, os

from stats import Ratio, fmt_mb, fmt_ms, median, ratio_verdict, ratios, rounds

CPU_TARGET = 1.0


def summarize(g):
    """Per workload and target: medians over rounds, the largest RSS, the
    errors, the connections opened per run, and the runs themselves."""
    out = {}
    for w, targets in g["results"].items():
        out[w] = {}
        for t, runs in targets.items():
            conns = [r["connections"] for r in runs if r.get("connections") is not None]
            out[w][t] = {
                "rps": median([r["rps"] for r in runs]),
                "p50": median([r["p50_us"] for r in runs if r.get("p50_us") is not None]),
                "p99": median([r["p99_us"] for r in runs if r.get("p99_us") is not None]),
                "rss": max([r.get("rss_kb_max") or 0 for r in runs]) or None,
                "cpu": median([r.get("cpu_us_per_req", 0) for r in runs]),
                "user": median([r.get("user_us_per_req", 0) for r in runs]),
                "sys": median([r.get("sys_us_per_req", 0) for r in runs]),
                "sched": median([r.get("sched_us_per_req", 0) for r in runs]),
                "errors": sum(r.get("non2xx", 0) + r.get("connect", 0) + r.get("read", 0) + r.get("write", 0)
                              + r.get("timeout", 0) for r in runs),
                "conns": (min(conns), max(conns)) if conns else None,
                "runs": runs,
            }
    return out


def paired(ts, key, a="corsair", b="nginx"):
    return Ratio(ratios(ts[a]["runs"], ts[b]["runs"], key))


def conns_cell(v):
    c = v["conns"]
    return "—" if c is None else (f"{c[0]:,}" if c[0] == c[1] else f"{c[0]:,}–{c[1]:,}")


def raw_rounds(w, gw, cell, rounds, steal=True):
    """The raw rounds table of one benchmark: `cell(run)` per run."""
    w("| workload | target | " + " | ".join(f"round {i + 1}" for i in range(rounds)) + " |")
    w("|---|---|" + "---:|" * rounds)
    for wl, ts in gw.items():
        for t, v in ts.items():
            w(f"| {wl} | {t} | " + " | ".join(cell(r) for r in v["runs"]) + " |")
        if steal:
            rs = list(zip(*(v["runs"] for v in ts.values())))
            w(f"| {wl} | *steal* | " + " | ".join(
                f"{sum(r.get('steal_pct', 0) for r in x) / len(x):.1f}%" for x in rs) + " |")


def pinned_section(res):
    """(lines, verdict rows, chart data) of the pinned CPU per request."""
    path = os.path.join(res, "pinned.json")
    if not os.path.exists(path):
        return [], [], []
    g = json.load(open(path))
    L, V, chart = [], [], []
    w = L.append
    w("## 3. Plaintext HTTP/1.1, pinned: CPU per request (the verdict)\n")
    if "skipped" in g:
        w(f"Not measured: {g['skipped']}.\n")
        return L, V, chart
    gw = summarize(g)
    affinity = ", ".join(f"{k} {'/'.join(v)}" for k, v in g["affinity"].items())
    w(f"The server under test alone on CPU {g['server_cpu']} (`taskset -c {g['server_cpu']}`), one worker "
      f"(corsair `workers = 1`, nginx `worker_processes 1`); wrk (`-t{g['threads']} -c{g['conns']} "
      f"-d{g['duration_s']}s`) and the upstream (one worker thread) on CPU {g['client_cpu']}. CPU per request: "
      "utime + stime of all the server's threads (nginx: master + worker) from `/proc/PID/stat` over the run, "
      "divided by the requests wrk completed; the upstream shares wrk's core, so it takes nothing from the "
      f"server's core and adds nothing to its time. {rounds(g['rounds'])}, corsair and nginx back to back in each "
      "(order reversed every other round); the ratio is taken round by round and the brackets give a "
      "distribution-free confidence interval for its median (order statistics; with up to 8 rounds, the full range of the "
      f"per-round ratios). The CPUs each process's threads may run on, read from `/proc`: "
      f"{affinity}. *connections per run*: the client "
      "connections each server accepted during the run (wrk opens one more than `-c`)."
      " *sched*: the threads' on-CPU time from `/proc/PID/task/*/schedstat`, a cross-check of utime + stime "
      "that does not depend on the clock tick.\n")
    w("| workload | target | CPU per request | user | system | sched | req/s | p99 | connections per run |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for wl, ts in gw.items():
        for t, v in ts.items():
            w(f"| {wl} | {t} | {v['cpu']:.2f} µs | {v['user']:.2f} µs | {v['sys']:.2f} µs | {v['sched']:.2f} µs "
              f"| {v['rps']:,.0f} | {fmt_ms(v['p99'])} | {conns_cell(v)} |")
    w("\n| workload | CPU per request, corsair / nginx, paired | target | verdict | req/s, paired (information) |")
    w("|---|---:|---:|:-:|---:|")
    for wl, ts in gw.items():
        r = paired(ts, "cpu_us_per_req")
        v, m = ratio_verdict(r, CPU_TARGET, "le")
        w(f"| {wl} | {r.fmt()} | ≤ {CPU_TARGET:.1f}x | {m} | {paired(ts, 'rps').fmt(False)} |")
        V.append((f"HTTP/1.1 pinned CPU per request ≤ {CPU_TARGET:.1f}x nginx, {wl}", r.fmt(), m))
        chart.append({"workload": wl, "cpu_ratio": r.median, "lo": r.lo, "hi": r.hi})
    w("\nEvery round, raw (CPU per request in µs; req/s in brackets):\n")
    raw_rounds(w, gw, lambda r: f"{r['cpu_us_per_req']:.2f} ({r['rps']:,.0f})", g["rounds"])
    w("")
    return L, V, chart


def plain_section(res, nproc):
    """(lines, chart data, the raw json) of the unpinned HTTP/1.1 benchmark (information)."""
    g = json.load(open(os.path.join(res, "gateway.json")))
    gw = summarize(g)
    L, chart = [], []
    w = L.append
    w("## 4. Plaintext HTTP/1.1, unpinned: requests/s (information)\n")
    w(f"wrk on loopback, `-t{g['threads']} -c{g['conns']} -d{g['duration_s']}s --latency`, "
      f"{rounds(g['rounds'])}; in each round every workload runs on "
      f"{' → '.join(next(iter(g['results'].values())).keys())} "
      "(reversed order on even rounds) so the machine's drift hits all of them alike; the servers and wrk share "
      "the machine's cores, each gateway with its default workers (one per core). The tables show the median of "
      "the rounds (req/s, p50, p99) and the largest RSS sampled every 250 ms under load (nginx: master + workers). "
      "CPU per request: user + system time of the server under test (for *direct*, the upstream itself) over the "
      "run, divided by the requests served. Since issue 19 these figures are information: on a dedicated host "
      "what decides capacity is CPU per request (section 3).\n")
    w("Workloads: **preflight** (OPTIONS with Origin, ACRM PUT, ACRH), **actual** (GET with an allowed Origin), "
      "**mixed** (a wrk Lua script cycling OPTIONS, GET, GET, PUT with a 2-byte body).\n")
    idle = g["idle_rss_kb"]
    w(f"Idle RSS before the load: corsair {fmt_mb(idle['corsair'])}"
      + (f" (with `workers = 1`: {fmt_mb(idle['corsair-1w'])})" if idle.get("corsair-1w") else "")
      + f", nginx {fmt_mb(idle['nginx'])} ({nproc} workers + master).\n")
    w("| workload | target | req/s | p50 | p99 | CPU per request | RSS under load | non-2xx/errors "
      "| connections per run |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for wl, ts in gw.items():
        for t, v in ts.items():
            w(f"| {wl} | {t} | {v['rps']:,.0f} | {fmt_ms(v['p50'])} | {fmt_ms(v['p99'])} | {v['cpu']:.1f} µs "
              f"| {fmt_mb(v['rss'])} | {v['errors']} | {conns_cell(v)} |")
    w("\nRatios, corsair / nginx, paired round by round (the median of each round's own ratio, which cancels the "
      "drift between rounds; brackets: a distribution-free confidence interval for that median):\n")
    w("| workload | req/s | p99 | CPU per request | corsair-1w req/s | corsair-1w p99 |")
    w("|---|---:|---:|---:|---:|---:|")
    for wl, ts in gw.items():
        rps, p99, cpu = paired(ts, "rps"), paired(ts, "p99_us"), paired(ts, "cpu_us_per_req")
        one = (paired(ts, "rps", "corsair-1w").fmt(False), paired(ts, "p99_us", "corsair-1w").fmt(False)) \
            if "corsair-1w" in ts else ("—", "—")
        w(f"| {wl} | {rps.fmt(False)} | {p99.fmt(False)} | {cpu.fmt(False)} | {one[0]} | {one[1]} |")
        chart.append({"workload": wl, "rps_ratio": rps.median, "p99_ratio": p99.median})
    w("\n*corsair-1w*: the same gateway with `workers = 1`, paired with nginx in the same rounds.\n")
    w("Every round, raw (req/s; p99 in ms); *steal*: the share of the machine's CPU time the hypervisor gave to "
      "other guests during that round's runs of the workload (from `/proc/stat`), the noise that pairing cannot "
      "cancel:\n")
    raw_rounds(w, gw, lambda r: f"{r['rps']:,.0f} ({r['p99_us'] / 1000:.1f})", g["rounds"])
    w("")
    return L, chart, g

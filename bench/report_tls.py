#!/usr/bin/env python3
"""BENCHMARKS.md, section 2: `corsair serve` against nginx over TLS +
HTTP/2 (bench/tls.py)."""
import json, os

from report_gateway import conns_cell, paired, raw_rounds, summarize
from stats import fmt_mb, fmt_ms, mark, median, ratio_verdict, rounds

RPS_TARGET, P99_TARGET, RSS_TARGET_MB = 1.0, 1.0, 20
VERDICT_WORKLOADS = ("actual", "preflight", "mixed")


def section(res):
    """(lines, verdict rows, chart data)."""
    path = os.path.join(res, "tls.json")
    if not os.path.exists(path):
        return [], [], []
    g = json.load(open(path))
    gw = summarize(g)
    L, V, chart = [], [], []
    w = L.append
    ch = g["churn"]
    w("## 2. Gateway over TLS + HTTP/2: `corsair serve` vs nginx\n")
    w(f"h2load (nghttp2-client) on loopback, `-t1 -c{g['conns']} -m{g['streams']}`, against `corsair serve` with "
      f"`[tls]` and nginx with `listen … ssl http2`, the same self-signed certificate ({g['tls']['key']}, made with "
      f"openssl for the run); negotiated {g['tls'].get('protocol')}, {g['tls'].get('cipher')}, key exchange "
      f"{g['tls'].get('temp_key')}, ALPN h2 (checked on every run). Same policy and upstream as section 4; each "
      f"gateway with its default workers (one per core), sharing the machine with h2load. {rounds(g['rounds'])}, "
      "corsair and nginx back to back in each (order reversed every other round). Configs: "
      "`bench/results/corsair-tls.toml`, `bench/results/nginx-tls.conf`.\n")
    w(f"Workloads: **preflight** and **actual** as in section 4, {g['duration_s']} s each. **mixed**: section 4's "
      "mix (1 preflight : 2 GETs : 1 PUT with a 2-byte body); h2load sends one method and header set per process, "
      f"so three processes start together with the connections split 1:2:1, each connection sending "
      f"{g['mix_per_conn']:,} requests: both gateways serve exactly the same requests, and req/s is all of them over "
      "the span from the first request to the last response. **churn**: a new TLS connection every "
      f"{ch['requests_per_conn']} requests (GETs, one at a time), so that full handshakes dominate: {ch['loops']} "
      f"loops run h2load one after the other for {g['duration_s']} s, each run opening {ch['conns']} connections "
      "at once (h2load resumes no TLS session; it makes no new connection by itself within a timed run).\n")
    w("p50/p99: from h2load's per-request log (submission to end of response; for churn the handshake comes before "
      "the first request, so its times are in the churn table). RSS: sampled every 250 ms under load (nginx: "
      "master + workers). CPU per request: the server's utime + stime over the run.\n")
    idle = g["idle_rss_kb"]
    w(f"Idle RSS before the load: corsair {fmt_mb(idle['corsair'])}, nginx {fmt_mb(idle['nginx'])}.\n")
    w("| workload | target | req/s | p50 | p99 | CPU per request | RSS under load | failed | connections per run |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for wl, ts in gw.items():
        for t, v in ts.items():
            w(f"| {wl} | {t} | {v['rps']:,.0f} | {fmt_ms(v['p50'])} | {fmt_ms(v['p99'])} | {v['cpu']:.1f} µs "
              f"| {fmt_mb(v['rss'])} | {v['errors']} | {conns_cell(v)} |")
    w("\nRatios, corsair / nginx, paired round by round (brackets: a distribution-free confidence interval for the "
      "median; with up to 8 rounds, the full range of the per-round ratios), each next to its target:\n")
    w("| workload | req/s | ≥ 1.0x | p99 | no worse (≤ 1.0x) | CPU per request | corsair RSS | ≤ 20 MB |")
    w("|---|---:|:-:|---:|:-:|---:|---:|:-:|")
    rss_max = 0
    for wl, ts in gw.items():
        rps, p99, cpu = paired(ts, "rps"), paired(ts, "p99_us"), paired(ts, "cpu_us_per_req")
        rss = ts["corsair"]["rss"] or 0
        if wl in VERDICT_WORKLOADS:
            _, rm = ratio_verdict(rps, RPS_TARGET, "ge")
            _, pm = ratio_verdict(p99, P99_TARGET, "le")
            sm = mark("met" if rss <= RSS_TARGET_MB * 1024 else "not met")
            rss_max = max(rss_max, rss)
            V.append((f"TLS + HTTP/2 req/s ≥ {RPS_TARGET:.1f}x nginx, {wl}", rps.fmt(), rm))
            V.append((f"TLS + HTTP/2 p99 no worse than nginx, {wl}", p99.fmt(), pm))
        else:
            rm = pm = sm = "information"
        w(f"| {wl} | {rps.fmt()} | {rm} | {p99.fmt()} | {pm} | {cpu.fmt(False)} | {fmt_mb(rss)} | {sm} |")
        chart.append({"workload": wl, "rps_ratio": rps.median, "p99_ratio": p99.median,
                      "rps_lo": rps.lo, "rps_hi": rps.hi, "verdict": wl in VERDICT_WORKLOADS})
    V.append((f"TLS + HTTP/2 corsair RSS ≤ {RSS_TARGET_MB} MB under load (preflight, actual, mixed)",
              f"{fmt_mb(rss_max)} (largest sample)", mark("met" if rss_max <= RSS_TARGET_MB * 1024 else "not met")))
    if "churn" in gw:
        ts = gw["churn"]
        w(f"\nChurn, per target (medians over rounds): handshakes per second, the server's CPU per connection "
          f"({ch['requests_per_conn']} requests and a full TLS handshake), and h2load's mean time for connect "
          "(TCP + TLS) and to the first byte of the first response:\n")
        w("| target | handshakes/s | CPU per connection | h2load CPU per connection | connect, mean "
          "| first byte, mean |")
        w("|---|---:|---:|---:|---:|---:|")
        for t, v in ts.items():
            rs = v["runs"]
            w(f"| {t} | {median([r['handshakes_per_s'] for r in rs]):,.0f} "
              f"| {median([r['cpu_us_per_conn'] for r in rs]):.0f} µs "
              f"| {median([r.get('client_cpu_us_per_conn', float('nan')) for r in rs]):.0f} µs "
              f"| {fmt_ms(median([r['connect_mean_us'] for r in rs if r.get('connect_mean_us') is not None]))} "
              f"| {fmt_ms(median([r['ttfb_mean_us'] for r in rs if r.get('ttfb_mean_us') is not None]))} |")
        cpc = paired(ts, "cpu_us_per_conn")
        w(f"\nCPU per connection, corsair / nginx, paired: {cpc.fmt()}. h2load shares the cores with the server, "
          "and a handshake costs the client as much CPU as the server or more (*h2load CPU* above): churn's req/s and "
          "handshakes/s depend on both, and the server's CPU per connection is the figure that compares the "
          "gateways.\n")
        for c in chart:
            if c["workload"] == "churn":
                c["cpu_conn_ratio"] = cpc.median
    w("\nEvery round, raw (req/s; p99 in ms):\n")
    raw_rounds(w, gw, lambda r: f"{r['rps']:,.0f} ({(r.get('p99_us') or 0) / 1000:.1f})", g["rounds"])
    w("")
    return L, V, chart

#!/usr/bin/env python3
"""BENCHMARKS.md, section 1: corsair's tower layer against tower-http's
`CorsLayer` (criterion time paired within each run, callgrind instructions,
allocations, and each library's answer to each shape)."""
import json, os, re

from stats import Ratio, fmt_ns, mark, ratio_verdict

TIME_TARGET = 0.5   # corsair's time over tower-http's, every shape
FLAT_TARGET = 1.2   # 10,000 origins over 1, corsair's time
# What decides the browser's outcome; the other CORS headers are compared too
# and their differences listed.
KEY_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials")
ABBREV = {"access-control-allow-origin": "ACAO", "access-control-allow-credentials": "ACAC",
          "access-control-allow-methods": "ACAM", "access-control-allow-headers": "ACAH",
          "access-control-expose-headers": "ACEH", "access-control-max-age": "ACMA", "vary": "Vary"}


def load(res, crit):
    txt = open(os.path.join(res, "micro.txt")).read()
    allocs = {}
    block = txt.split("heap allocations per request", 1)[1].split("\n\n", 1)[0]
    for ln in block.splitlines()[2:]:
        m = re.match(r"(\S+)\s+(\d+)\s+(\d+)", ln)
        if m:
            allocs[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    insn = json.load(open(os.path.join(res, "insn.json")))
    runs_path = os.path.join(res, "micro_runs.json")
    runs = json.load(open(runs_path)) if os.path.exists(runs_path) else {}
    rows = []
    for shape, (ac, at) in allocs.items():
        t = {}
        for lib in ("corsair", "tower-http"):
            xs = runs.get(shape, {}).get(lib)
            if not xs:
                e = json.load(open(os.path.join(crit, shape, lib, "new", "estimates.json")))
                xs = [e["median"]["point_estimate"]]
            t[lib] = xs
        if len(t["corsair"]) != len(t["tower-http"]):
            raise SystemExit(f"micro_runs.json: {shape} has {len(t['corsair'])} corsair runs and "
                             f"{len(t['tower-http'])} tower-http runs; they cannot be paired")
        rows.append({"shape": shape, "corsair": t["corsair"], "tower": t["tower-http"],
                     "ratio": Ratio([a / b for a, b in zip(t["corsair"], t["tower-http"])], "range"),
                     "corsair_allocs": ac, "tower_allocs": at,
                     "corsair_ir": insn["shapes"][shape]["corsair"], "tower_ir": insn["shapes"][shape]["tower-http"],
                     "outcome": insn.get("outcomes", {}).get(shape)})
    return rows


def _tokens(v):
    return sorted(t.strip().lower() for t in v.split(",") if t.strip())


def allowed(o, shape):
    """Whether a browser would go on with the answer: it names an origin
    (`Access-Control-Allow-Origin`) and, for a preflight, has an ok (2xx)
    status (Fetch §4.8 CORS-preflight fetch, step 7, and the CORS check)."""
    return "access-control-allow-origin" in o["headers"] and ("preflight" not in shape or 200 <= o["status"] < 300)


def compare(o, shape):
    """(same outcome?, what differs: "status" and the CORS headers whose
    values differ) of one shape's answers by the two libraries; (None, [])
    when the harness did not record them. Same outcome: both answers refuse
    the request, or both allow it naming the same origin and credentials."""
    if not o:
        return None, []
    a, b = o["corsair"], o["tower-http"]
    same = allowed(a, shape) == allowed(b, shape) and (not allowed(a, shape) or all(
        a["headers"].get(k) == b["headers"].get(k) for k in KEY_HEADERS))
    names = sorted(set(a["headers"]) | set(b["headers"]))
    diff = (["status"] if a["status"] != b["status"] else []) + [
        n for n in names if (n not in KEY_HEADERS or not same or not allowed(a, shape))
        and _tokens(a["headers"].get(n, "")) != _tokens(b["headers"].get(n, ""))]
    return same, diff


def _outcome_cell(r):
    """Beside the time: whether both libraries decide the shape alike."""
    o = r["outcome"]
    if not o:
        return "not recorded"
    if compare(o, r["shape"])[0]:
        return "same"
    verdict = {True: "allows", False: "refuses"}
    return (f"**differs**: corsair {verdict[allowed(o['corsair'], r['shape'])]} "
            f"({o['corsair']['status']}), tower-http {verdict[allowed(o['tower-http'], r['shape'])]} "
            f"({o['tower-http']['status']})")


def _answer(o, shape, names):
    verdict = "no Origin" if shape == "non_cors" else "allows" if allowed(o, shape) else "refuses"
    parts = [f"{verdict}, {o['status']}"]
    for n in names:
        if n == "status":
            continue
        v = o["headers"].get(n)
        short = ABBREV.get(n, n)
        parts.append(f"{short}: `{v[:60]}{'…' if len(v) > 60 else ''}`" if v is not None else f"no {short}")
    return ", ".join(parts)


def section(res, crit):
    """(markdown lines, verdict rows, chart data)."""
    rows = load(res, crit)
    n_runs = max(len(r["corsair"]) for r in rows)
    L, V = [], []
    w = L.append
    w("## 1. Middleware: corsair-tower vs tower-http 0.7 `CorsLayer`\n")
    w("Same policy on both (1 allowed origin unless the shape says otherwise, methods PUT/DELETE, "
      "headers content-type/x-request-id, exposed x-request-id, credentials, max-age 600), the same request, "
      "an inner handler that answers at once (`crates/corsair-tower/benches/shared/shapes.rs`).\n")
    w(f"**Time**: criterion's median per request in each of {n_runs} criterion run(s); every run measures both "
      "libraries, shape by shape, back to back, so the ratio is taken **within each run** and the table gives the "
      "median of the per-run ratios and their range (min–max over runs). A verdict is *met* only when every run's "
      "ratio meets the target, *not met* when none does, and *straddles* otherwise. The per-library columns give the "
      "median of the runs' medians and their range.\n")
    w("| shape | corsair time | tower-http time | time ratio, paired | per-run ratios | ≤ 0.5x | outcome |")
    w("|---|---:|---:|---:|---|:-:|---|")
    met = {"met": [], "not met": [], "straddles": []}
    for r in rows:
        c, t = Ratio(r["corsair"], "range"), Ratio(r["tower"], "range")
        v, m = ratio_verdict(r["ratio"], TIME_TARGET, "le")
        met.setdefault(v, []).append(r["shape"])
        w(f"| {r['shape']} | {fmt_ns(c.median)} [{fmt_ns(c.lo)}–{fmt_ns(c.hi)}] "
          f"| {fmt_ns(t.median)} [{fmt_ns(t.lo)}–{fmt_ns(t.hi)}] | {r['ratio'].fmt()} "
          f"| {', '.join(f'{x:.2f}' for x in r['ratio'].xs)} | {m} | {_outcome_cell(r)} |")
    w("\n**Instructions**: valgrind callgrind, (Ir of N requests through the layer − Ir of building and dropping "
      "them) / N, N = 2,000 (`bench/insn`, same policy and shapes; deterministic, so the load of the machine does "
      "not move it). **Allocations**: a counting global allocator around one call, the inner handler's own "
      "response included (it accounts for 2 on both sides). **Answer**: each library's response to the shape, "
      "recorded once (`corsair-bench-insn SHAPE LIB 1 outcome`): *same* when both refuse the request, or both "
      "allow it with the same `Access-Control-Allow-Origin` and `Access-Control-Allow-Credentials` (a browser "
      "goes on when the answer names the origin in `Access-Control-Allow-Origin` and, for a preflight, has a "
      "2xx status); a status or CORS headers that differ besides are named, and shown below.\n")
    w("| shape | corsair instr. | tower-http instr. | instr. ratio | allocs corsair | allocs tower-http "
      "| allocs ≤ | answer |")
    w("|---|---:|---:|---:|---:|---:|:-:|---|")
    diffs = []
    alloc_ok = True
    for r in rows:
        same, other = compare(r["outcome"], r["shape"])
        if same is None:
            ans = "not recorded"
        else:
            ans = ("same" if same else "**differs**") + (
                f" ({', '.join(ABBREV.get(n, n) for n in other)} differ{'s' if len(other) == 1 else ''})"
                if other else "")
            if not same or other:
                diffs.append((r, other))
        alloc_ok &= r["corsair_allocs"] <= r["tower_allocs"]
        w(f"| {r['shape']} | {r['corsair_ir']:,.0f} | {r['tower_ir']:,.0f} | {r['corsair_ir'] / r['tower_ir']:.2f}x "
          f"| {r['corsair_allocs']} | {r['tower_allocs']} | {'✅' if r['corsair_allocs'] <= r['tower_allocs'] else '❌'} "
          f"| {ans} |")
    if diffs:
        w("\nWhere the answers differ (where the outcome differs, the time ratio compares different work):\n")
        w("| shape | corsair answers | tower-http answers |")
        w("|---|---|---|")
        for r, other in diffs:
            names = [n for n in KEY_HEADERS if n not in other] + other
            w(f"| {r['shape']} | {_answer(r['outcome']['corsair'], r['shape'], names)} "
              f"| {_answer(r['outcome']['tower-http'], r['shape'], names)} |")
    by = {r["shape"]: r for r in rows}
    a1, a10k = by["origins_1_actual_allowed"], by["origins_10000_actual_allowed"]
    flat = Ratio([x / y for x, y in zip(a10k["corsair"], a1["corsair"])], "range")
    flat_t = Ratio([x / y for x, y in zip(a10k["tower"], a1["tower"])], "range")
    iflat = a10k["corsair_ir"] / a1["corsair_ir"]
    iflat_t = a10k["tower_ir"] / a1["tower_ir"]
    fv, fm = ratio_verdict(flat, FLAT_TARGET, "le")
    w(f"\nScaling, 10,000 allowed origins against 1 (actual request, the allowed origin listed last), time "
      f"within each run: corsair {flat.fmt()} {fm} (flat: ≤ {FLAT_TARGET}x), tower-http {flat_t.fmt(False)}; "
      f"instructions corsair **{iflat:.2f}x** {'✅' if iflat <= FLAT_TARGET else '❌'}, tower-http {iflat_t:.2f}x.\n")

    worst = max(rows, key=lambda r: r["ratio"].hi)
    summary = (f"met on {len(met['met'])} of {len(rows)} shapes"
               + (f"; straddles on {', '.join(met['straddles'])}" if met["straddles"] else "")
               + (f"; not met on {', '.join(met['not met'])}" if met["not met"] else ""))
    tv = "met" if len(met["met"]) == len(rows) else "not met" if met["not met"] else "straddles"
    V.append(("Tower layer time ≤ 0.5x tower-http 0.7, every shape",
              f"{summary}; worst per-run ratio {worst['ratio'].hi:.2f}x ({worst['shape']})", mark(tv)))
    V.append(("Tower layer: never more allocations than tower-http",
              f"corsair {min(r['corsair_allocs'] for r in rows)}–{max(r['corsair_allocs'] for r in rows)}, "
              f"tower-http {min(r['tower_allocs'] for r in rows)}–{max(r['tower_allocs'] for r in rows)} per request",
              mark("met" if alloc_ok else "not met")))
    V.append((f"Tower layer flat from 1 to 10,000 origins (time ≤ {FLAT_TARGET}x)",
              f"{flat.fmt()} (instructions {iflat:.2f}x)", fm))
    differ = [r["shape"] for r, _ in diffs if not compare(r["outcome"], r["shape"])[0]]
    if differ:
        V.append(("Same outcome as tower-http (allowed or refused), for information",
                  "differs on " + ", ".join(differ) + " (see section 1)", "information"))
    chart = [{"shape": r["shape"], "ratio": r["ratio"].median, "ratio_lo": r["ratio"].lo, "ratio_hi": r["ratio"].hi,
              "ir_ratio": r["corsair_ir"] / r["tower_ir"]} for r in rows]
    return L, V, chart

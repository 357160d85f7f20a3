#!/usr/bin/env python3
"""Gateway load benchmark over plaintext HTTP/1.1: the bench upstream
directly, `corsair serve` in front of it, and nginx in front of it (same
CORS policy), loaded with wrk on loopback, targets alternated round by round.
Writes JSON to argv[1]. Requests/s here is information; the plaintext
verdict is the pinned CPU per request (bench/pinned.py).

Environment: ROUNDS (3), and those of bench/servers.py (DURATION, CONNS,
THREADS, CORSAIR, UPSTREAM, BENCH_RES).
"""
import json, os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers as s  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "3"))


def main():
    out_path = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="corsair-bench-")
    s.write_lua(tmp)
    procs = []
    try:
        up = s.start_upstream()
        procs.append(up)
        s.wait_port(s.P_UP)
        cs = s.start_corsair(tmp, "corsair", port=s.P_CORSAIR, admin=s.P_ADMIN)
        cs1 = s.start_corsair(tmp, "corsair1", port=s.P_CORSAIR1, workers=1, admin=s.P_ADMIN1)
        nx = s.start_nginx(tmp, "nginx", status_port=s.P_STATUS)
        procs += [cs, cs1, nx]
        for port, p in ((s.P_CORSAIR, cs), (s.P_NGINX, nx), (s.P_CORSAIR1, cs1), (s.P_ADMIN, cs), (s.P_STATUS, nx),
                        (s.P_ADMIN1, cs1)):
            s.wait_port(port, proc=p)
        os.makedirs(s.RES, exist_ok=True)
        shutil.copy(os.path.join(tmp, "nginx", "nginx.conf"), os.path.join(s.RES, "nginx.conf"))
        shutil.copy(os.path.join(tmp, "corsair.toml"), os.path.join(s.RES, "corsair.toml"))
        for port in (s.P_CORSAIR, s.P_NGINX, s.P_CORSAIR1):
            s.check(f"http://127.0.0.1:{port}")
        # corsair and nginx are neighbours in both orders, and so are nginx and corsair-1w.
        targets = [s.Target("direct", s.P_UP, up, "upstream"),
                   s.Target("corsair", s.P_CORSAIR, cs, "corsair", s.connections_counter("corsair", s.P_ADMIN)),
                   s.Target("nginx", s.P_NGINX, nx, "nginx", s.connections_counter("nginx", s.P_STATUS)),
                   s.Target("corsair-1w", s.P_CORSAIR1, cs1, "corsair",
                            s.connections_counter("corsair", s.P_ADMIN1))]
        idle = {t.name: s.rss_kb(t.pids()) for t in targets[1:]}
        results = {w: {t.name: [] for t in targets} for w in s.LUA}
        # Warm-up: a short run on each, to fill pools and page in code.
        for t in targets:
            subprocess.run(["wrk", "-t1", f"-c{s.CONNS}", "-d1s", f"http://127.0.0.1:{t.port}/"],
                           capture_output=True)
        loads = []
        for rnd in range(ROUNDS):
            for w in s.LUA:
                order = targets if rnd % 2 == 0 else targets[::-1]
                for t in order:
                    r = s.run_wrk(t, w, tmp, rss=t.kind != "upstream")
                    results[w][t.name].append(r)
                    print(s.line(rnd, w, r, t.name), flush=True)
            loads.append(os.getloadavg()[0])
        json.dump({"results": results, "idle_rss_kb": idle, "loadavg_after_rounds": loads,
                   "duration_s": s.DURATION, "conns": s.CONNS, "threads": s.THREADS, "rounds": ROUNDS,
                   "origins": len(s.ORIGINS)}, open(out_path, "w"), indent=1)
    finally:
        s.stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CPU time per request of `corsair serve` and nginx over plaintext
HTTP/1.1, pinned: the plaintext HTTP/1.1 verdict (issue 19).

The server under test runs alone on one core (`taskset -c PIN_SERVER_CPU`)
with one worker (`workers = 1` for corsair, `worker_processes 1` for nginx);
wrk runs on the other core (`taskset -c PIN_CLIENT_CPU`, one thread), and so
does the upstream (bench_upstream with one worker thread): the server's core
is the server's alone, and what is measured is the server's own CPU time,
utime + stime of all its threads (nginx: master + worker) from /proc over the
run, divided by the requests wrk completed. The upstream sharing wrk's core
slows the closed loop on proxied requests alike for both servers and adds
nothing to the server's CPU time. corsair and nginx alternate run by run,
order reversed every other round, so both see the same drift. Writes JSON to
argv[1].

Environment: PIN_ROUNDS (ROUNDS, 3), PIN_CONNS (wrk connections, 32),
PIN_SERVER_CPU (0), PIN_CLIENT_CPU (1), and those of bench/servers.py.
"""
import json, os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers as s  # noqa: E402

ROUNDS = int(os.environ.get("PIN_ROUNDS", os.environ.get("ROUNDS", "3")))
CONNS = int(os.environ.get("PIN_CONNS", "32"))
SERVER_CPU = os.environ.get("PIN_SERVER_CPU", "0")
CLIENT_CPU = os.environ.get("PIN_CLIENT_CPU", "1")
P_UP, P_CORSAIR, P_NGINX, P_ADMIN, P_STATUS = 28180, 28181, 28182, 28191, 28192


def allowed_cpus(pids):
    """The CPUs each thread of the processes may run on (Cpus_allowed_list)."""
    seen = set()
    for p in pids:
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/status") as f:
                    for ln in f:
                        if ln.startswith("Cpus_allowed_list:"):
                            seen.add(ln.split(":", 1)[1].strip())
            except OSError:
                pass
    return sorted(seen)


def main():
    out_path = sys.argv[1]
    if (os.cpu_count() or 1) < 2:
        json.dump({"skipped": "fewer than 2 CPUs: no core for the server alone"}, open(out_path, "w"))
        print("pinned: skipped (fewer than 2 CPUs)")
        return
    os.makedirs(s.RES, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="corsair-pinned-")
    s.write_lua(tmp)
    procs = []
    try:
        up = s.start_upstream(P_UP, taskset=CLIENT_CPU, workers=1)
        procs.append(up)
        s.wait_port(P_UP)
        cs = s.start_corsair(tmp, "corsair", taskset=SERVER_CPU, port=P_CORSAIR, workers=1, admin=P_ADMIN,
                             upstream_port=P_UP)
        nx = s.start_nginx(tmp, "nginx", taskset=SERVER_CPU, port=P_NGINX, workers=1, status_port=P_STATUS,
                           upstream_port=P_UP)
        procs += [cs, nx]
        for port, p in ((P_CORSAIR, cs), (P_NGINX, nx), (P_ADMIN, cs), (P_STATUS, nx)):
            s.wait_port(port, proc=p)
        shutil.copy(os.path.join(tmp, "nginx", "nginx.conf"), os.path.join(s.RES, "nginx-pinned.conf"))
        shutil.copy(os.path.join(tmp, "corsair.toml"), os.path.join(s.RES, "corsair-pinned.toml"))
        for port in (P_CORSAIR, P_NGINX):
            s.check(f"http://127.0.0.1:{port}")
        targets = [s.Target("corsair", P_CORSAIR, cs, "corsair", s.connections_counter("corsair", P_ADMIN)),
                   s.Target("nginx", P_NGINX, nx, "nginx", s.connections_counter("nginx", P_STATUS))]
        affinity = {t.name: allowed_cpus(t.pids()) for t in targets}
        affinity["upstream"] = allowed_cpus([up.pid])
        for t in targets:
            if affinity[t.name] != [SERVER_CPU]:
                raise SystemExit(f"pinned: {t.name} may run on {affinity[t.name]}, not only CPU {SERVER_CPU}")
        for t in targets:
            subprocess.run(s.pin(CLIENT_CPU) + ["wrk", "-t1", f"-c{CONNS}", "-d1s", f"http://127.0.0.1:{t.port}/"],
                           capture_output=True)
        results = {w: {t.name: [] for t in targets} for w in s.LUA}
        for rnd in range(ROUNDS):
            for w in s.LUA:
                order = targets if rnd % 2 == 0 else targets[::-1]
                for t in order:
                    r = s.run_wrk(t, w, tmp, conns=CONNS, taskset=CLIENT_CPU)
                    results[w][t.name].append(r)
                    print(s.line(rnd, w, r, t.name) + f"  user {r['user_us_per_req']:.2f} sys "
                          f"{r['sys_us_per_req']:.2f} sched {r['sched_us_per_req']:.2f} us/req", flush=True)
        json.dump({"results": results, "duration_s": s.DURATION, "conns": CONNS, "threads": s.THREADS, "rounds": ROUNDS,
                   "server_cpu": SERVER_CPU, "client_cpu": CLIENT_CPU, "affinity": affinity,
                   "origins": len(s.ORIGINS)}, open(out_path, "w"), indent=1)
    finally:
        s.stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

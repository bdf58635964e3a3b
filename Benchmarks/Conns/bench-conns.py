#!/usr/bin/env python3
"""make bench-conns: a many-connection echo benchmark (issue 15, part 4).

Servers (each on one thread, pinned to CPU 0) are loaded by a C closed-loop
load generator (one thread, pinned to CPU 1) with CONNS connections each
sending SIZE bytes, awaiting and verifying the whole echo, and sending again.
For every (implementation, conns, size) the rounds are interleaved
(implementations alternate run by run) and the median of each figure is printed:

  bench-conns impl=NAME conns=N size=S rps=X p50_us=X p99_us=X server_cpu_us_per_req=X
      server_rss_kb=X syscalls_per_req=X mallocs_per_req=X server_cpu_util=X client_cpu_util=X

Python 3 standard library only. Every process it starts is killed at the end,
also on failure or Ctrl-C. See Benchmarks/README.md, section "bench-conns".
"""

import argparse
import atexit
import datetime
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)                 # Benchmarks/
ROOT = os.path.dirname(BENCH)                 # the repository
OUT = os.path.join(BENCH, ".build", "conns")  # built binaries (ignored by git)
HOST = "127.0.0.1"

ALL_IMPLS = ["c-epoll", "sock-poller", "sock-async", "nio", "nio-async", "flyingsocks", "go", "tokio", "c-uring", "sock-uring",
             "sock-uring-async"]
SOCK_IMPLS = ("sock-poller", "sock-async", "sock-uring", "sock-uring-async")
DEFAULT_IMPLS = ALL_IMPLS

STARTED = []  # every Popen we started (each in its own process group)


def log(msg):
    print(f"bench-conns: {msg}", file=sys.stderr, flush=True)


def kill_all():
    for p in STARTED:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.time() + 2
    for p in STARTED:
        try:
            p.wait(timeout=max(0.05, deadline - time.time()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    STARTED.clear()


def on_signal(signum, _frame):
    kill_all()
    sys.exit(128 + signum)


def start(cmd, **kw):
    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    STARTED.append(p)
    return p


def stop(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        except ProcessLookupError:
            pass
    if p in STARTED:
        STARTED.remove(p)


def run(cmd, cwd=None, env=None, quiet=True):
    """Runs a build command; returns (ok, output)."""
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode == 0, r.stdout


# ---------------------------------------------------------------- building

def sock_echo_declared():
    try:
        with open(os.path.join(ROOT, "Package.swift")) as f:
            return '"sock-echo"' in f.read()
    except OSError:
        return False


def build(impls, swift):
    """Builds what the chosen implementations need. Returns {impl: None or reason skipped}."""
    os.makedirs(OUT, exist_ok=True)
    skipped = {}
    cc = os.environ.get("CC", "cc")
    c_dir = os.path.join(HERE, "c")
    for src, out, extra in [("loadgen.c", "conns-loadgen", []), ("c-epoll.c", "c-epoll", []),
                            ("malloc-count.c", "malloc-count.so", ["-fPIC", "-shared"])]:
        ok, text = run([cc, "-O2", "-Wall", *extra, "-o", os.path.join(OUT, out), os.path.join(c_dir, src)])
        if not ok:
            sys.exit(f"bench-conns: cc failed on {src}:\n{text}")
    if "c-uring" in impls:
        src = os.path.join(c_dir, "c-uring.c")
        if not os.path.exists(src):
            skipped["c-uring"] = "Conns/c/c-uring.c is not written yet"
        else:
            ok, text = run([cc, "-O2", "-Wall", "-o", os.path.join(OUT, "c-uring"), src, "-luring"])
            if not ok:
                skipped["c-uring"] = "needs liburing (apt-get install -y liburing-dev): " + text.strip().splitlines()[-1]
    if "go" in impls:
        if not shutil.which("go"):
            skipped["go"] = "go is not installed: apt-get install -y golang-go"
        else:
            env = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off", CGO_ENABLED="0")
            ok, text = run(["go", "build", "-o", os.path.join(OUT, "conns-go"), "."], cwd=os.path.join(HERE, "go"), env=env)
            if not ok:
                skipped["go"] = "go build failed: " + text.strip()[-400:]
    if "tokio" in impls:
        if not shutil.which("cargo"):
            skipped["tokio"] = "cargo is not installed: apt-get install -y cargo librust-tokio-dev"
        elif not (os.path.isdir("/usr/share/cargo/registry")
                  and any(d.startswith("tokio-1") for d in os.listdir("/usr/share/cargo/registry"))):
            skipped["tokio"] = "Debian's tokio crate is missing: apt-get install -y librust-tokio-dev"
        else:
            target = os.path.join(OUT, "tokio-target")
            ok, text = run(["cargo", "build", "--release", "--offline", "--quiet", "--target-dir", target],
                           cwd=os.path.join(HERE, "tokio"))
            if ok:
                shutil.copy(os.path.join(target, "release", "conns-tokio"), os.path.join(OUT, "conns-tokio"))
            else:
                skipped["tokio"] = "cargo build failed: " + text.strip()[-400:]
    products = [p for p, names in [("conns-nio", ("nio", "nio-async")), ("conns-flyingsocks", ("flyingsocks",))]
                if any(n in impls for n in names)]
    for product in products:
        log(f"building {product} (swift build -c release)")
        ok, text = run([swift, "build", "-c", "release", "-q", "--product", product], cwd=BENCH)
        if not ok:
            reason = f"swift build --product {product} failed: " + text.strip()[-400:]
            for n in (("nio", "nio-async") if product == "conns-nio" else ("flyingsocks",)):
                skipped[n] = reason
    if any(n in impls for n in SOCK_IMPLS):
        reason = None
        if os.environ.get("SOCK_ECHO"):
            if not os.access(os.environ["SOCK_ECHO"], os.X_OK):
                reason = f"SOCK_ECHO={os.environ['SOCK_ECHO']} is not an executable"
        elif not sock_echo_declared():
            reason = "the root package has no sock-echo product yet (issue 15 part 3)"
        else:
            log("building sock-echo (swift build -c release --product sock-echo, repository root)")
            ok, text = run([swift, "build", "-c", "release", "-q", "--product", "sock-echo"], cwd=ROOT)
            if not ok:
                reason = "swift build --product sock-echo failed: " + text.strip()[-400:]
        if reason:
            for n in SOCK_IMPLS:
                skipped[n] = reason
    return skipped


def swift_bin(name):
    return os.path.join(BENCH, ".build", "release", name)


def server_command(impl, port):
    """(argv, extra env, mallocs countable)"""
    if impl == "c-epoll":
        return [os.path.join(OUT, "c-epoll"), "--host", HOST, "--port", str(port)], {}, True
    if impl == "c-uring":
        return [os.path.join(OUT, "c-uring"), "--host", HOST, "--port", str(port)], {}, True
    if impl in SOCK_IMPLS:
        # sock-uring: sock-echo's io_uring completion engine; sock-uring-async:
        # the async API on the reactor's io_uring backend (issue 16).
        mode, backend = {"sock-poller": ("poller", "epoll"), "sock-async": ("async", "epoll"),
                         "sock-uring": ("poller", "uring"), "sock-uring-async": ("async", "uring")}[impl]
        binary = os.environ.get("SOCK_ECHO") or os.path.join(ROOT, ".build", "release", "sock-echo")
        return ([binary, "--listen", f"{HOST}:{port}",
                 "--threads", "1", "--mode", mode, "--backend", backend], {}, True)
    if impl in ("nio", "nio-async"):
        return [swift_bin("conns-nio"), "--mode", impl, "--host", HOST, "--port", str(port)], {}, True
    if impl == "flyingsocks":
        return [swift_bin("conns-flyingsocks"), "--host", HOST, "--port", str(port)], {}, True
    if impl == "go":
        # Go allocates from its own heap, not malloc: the counter cannot see it.
        return [os.path.join(OUT, "conns-go"), "--host", HOST, "--port", str(port)], {"GOMAXPROCS": "1"}, False
    if impl == "tokio":
        return [os.path.join(OUT, "conns-tokio"), "--host", HOST, "--port", str(port)], {}, True
    raise ValueError(impl)


# ---------------------------------------------------------------- one run

def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_listening(proc, port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


PERF_COUNT = re.compile(r"^\s*([\d,.]+|<not counted>|<not supported>)\s+raw_syscalls:sys_enter", re.M)


def parse_perf(path):
    try:
        text = open(path).read()
    except OSError:
        return None
    m = PERF_COUNT.search(text)
    if not m or not m.group(1)[0].isdigit():
        return None
    return float(m.group(1).replace(",", ""))


def one_run(impl, conns, size, args, tmp, perf_ok, profile=None):
    """One server, one load generator run. With profile=PATH, `perf record` (cpu-clock, call graphs) samples the
    server over the window instead of `perf stat`, into PATH.data."""
    port = free_port()
    argv, extra_env, countable = server_command(impl, port)
    mfile = os.path.join(tmp, f"mallocs-{impl}")
    try:
        os.unlink(mfile)
    except FileNotFoundError:
        pass
    env = dict(os.environ, **extra_env)
    if countable:
        env["LD_PRELOAD"] = os.path.join(OUT, "malloc-count.so")
        env["SOCK_MALLOC_COUNT_FILE"] = mfile
    server_log = open(os.path.join(tmp, f"server-{impl}.log"), "w")
    server = start(["taskset", "-c", str(args.server_cpu), *argv], env=env,
                   stdin=subprocess.DEVNULL, stdout=server_log, stderr=subprocess.STDOUT)
    perf = None
    try:
        if not wait_listening(server, port):
            server_log.flush()
            tail = open(server_log.name).read()[-300:].strip()
            return None, f"the server did not listen on port {port} (exit {server.poll()}): {tail}"
        lg_cmd = ["taskset", "-c", str(args.client_cpu), os.path.join(OUT, "conns-loadgen"), HOST, str(port),
                  str(conns), str(size), str(args.warmup), str(args.window), "--server-pid", str(server.pid)]
        if countable:
            lg_cmd += ["--malloc-file", mfile]
        # perf attaches when the load generator has connected (so that every server
        # thread exists), with its counter disabled; the window's edges enable and
        # disable it through a control FIFO (no attach delay inside the window).
        perf_out = os.path.join(tmp, "perf.txt")
        ctl = ack = None

        def attach_perf():
            nonlocal perf, ctl, ack
            ctl_path, ack_path = os.path.join(tmp, "perf-ctl"), os.path.join(tmp, "perf-ack")
            for path in (ctl_path, ack_path):
                if os.path.exists(path):
                    os.unlink(path)
                os.mkfifo(path)
            if profile:
                what = ["record", "-e", "cpu-clock", "-F", "1999", "-g", "-o", profile + ".data"]
            else:
                what = ["stat", "-e", "raw_syscalls:sys_enter", "-o", perf_out]
            perf = start(["taskset", "-c", str(args.client_cpu), "perf", *what,
                          "-p", str(server.pid), "-D", "-1", "--control", f"fifo:{ctl_path},{ack_path}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            opened = {}
            opener = threading.Thread(target=lambda: opened.update(ctl=open(ctl_path, "w"), ack=open(ack_path)))
            opener.daemon = True
            opener.start()
            opener.join(15)
            ctl, ack = opened.get("ctl"), opened.get("ack")
            if ctl is None or ack is None:
                log(f"perf did not open its control FIFO; syscalls not measured for {impl}")
                stop(perf)
                perf = None

        def perf_command(word):
            t1 = time.monotonic()
            ctl.write(word + "\n")
            ctl.flush()
            ack.readline()
            return (t1 + time.monotonic()) / 2

        loadgen = start(lg_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # A watchdog: connection set-up + warm-up + window + a margin.
        timer = threading.Timer(args.warmup + args.window + 90 + conns / 200,
                                lambda: loadgen.poll() is None and os.killpg(loadgen.pid, signal.SIGKILL))
        timer.start()
        result = None
        perf_on = perf_off = None
        for line in loadgen.stdout:
            line = line.strip()
            if line == "connected" and perf_ok:
                attach_perf()
            elif line == "window-start" and perf is not None:
                perf_on = perf_command("enable")
                loadgen.send_signal(signal.SIGUSR1)  # count requests from here
            elif line == "window-end" and perf is not None and perf_on is not None:
                loadgen.send_signal(signal.SIGUSR2)  # to here
                perf_off = perf_command("disable")
            elif line.startswith("loadgen "):
                result = dict(kv.split("=", 1) for kv in line.split()[1:])
        loadgen.wait()
        timer.cancel()
        err = loadgen.stderr.read().strip()
        STARTED.remove(loadgen)
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            try:
                perf.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            stop(perf)
            ctl.close()
            ack.close()
        if loadgen.returncode != 0 or result is None:
            return None, f"load generator exit {loadgen.returncode}: {err[-400:]}"
        if server.poll() is not None:
            return None, f"the server exited during the run (status {server.returncode})"
        requests = int(result["requests"])
        window = float(result["window_s"])
        rps = requests / window
        m = {
            "rps": rps,
            "p50_us": float(result["p50_us"]),
            "p99_us": float(result["p99_us"]),
            "server_cpu_us_per_req": float(result["server_cpu_s"]) * 1e6 / requests,
            "server_rss_kb": float(result["server_rss_kb"]),
            "syscalls_per_req": float("nan"),
            "mallocs_per_req": float(result["mallocs"]) / requests if result["mallocs"] != "nan" else float("nan"),
            "server_cpu_util": float(result["server_cpu_s"]) / window,
            "client_cpu_util": float(result["client_cpu_s"]) / window,
        }
        if profile:
            pass
        elif perf is not None and perf_on is not None and perf_off is not None:
            count = parse_perf(perf_out)
            perf_requests = result.get("perf_requests", "nan")
            if count is not None and perf_requests not in ("nan", "0"):
                # The requests completed while perf counted (SIGUSR1 … SIGUSR2 inside it).
                m["syscalls_per_req"] = count / int(perf_requests)
            elif count is not None:
                m["syscalls_per_req"] = count / ((perf_off - perf_on) * rps)
        return m, None
    finally:
        if perf is not None:
            stop(perf)
        stop(server)
        server_log.close()


def half_close_check(impl, args, tmp, clients=20):
    """Each client sends a payload, shuts down its write side at once, and must get the whole echo, then EOF
    (fact 13). Returns an error text or None."""
    port = free_port()
    argv, extra_env, _ = server_command(impl, port)
    server = start(["taskset", "-c", str(args.server_cpu), *argv], env=dict(os.environ, **extra_env),
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    errors = []
    try:
        if not wait_listening(server, port):
            return f"the server did not listen on port {port}"

        def client(k):
            size = [1, 64, 4096, 65536, 200_000][k % 5] + k
            payload = bytes((i * 13 + k) & 0xFF for i in range(size))
            got = bytearray()
            try:
                with socket.create_connection((HOST, port), timeout=10) as s:
                    def send():
                        try:
                            s.sendall(payload)
                            s.shutdown(socket.SHUT_WR)
                        except OSError as e:
                            errors.append(f"client {k}: send: {e}")
                    t = threading.Thread(target=send)
                    t.start()
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        got += chunk
                    t.join()
                    if bytes(got) != payload:
                        errors.append(f"client {k}: echoed {len(got)} of {size} bytes"
                                      + ("" if payload.startswith(bytes(got)) else ", differing"))
            except socket.timeout:
                errors.append(f"client {k}: no EOF within 10 s after {len(got)} of {size} bytes echoed")
            except OSError as e:
                errors.append(f"client {k}: {e}")

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if server.poll() is not None:
            errors.append(f"the server exited (status {server.returncode})")
        return "; ".join(errors[:3]) + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else "") if errors else None
    finally:
        stop(server)


# ---------------------------------------------------------------- output

KEYS = ["rps", "p50_us", "p99_us", "server_cpu_us_per_req", "server_rss_kb", "syscalls_per_req", "mallocs_per_req",
        "server_cpu_util", "client_cpu_util"]


def fmt(x, key=None):
    if x is None or x != x:
        return "nan"
    if key in ("rps", "server_rss_kb"):
        return f"{x:.0f}"
    if key in ("server_cpu_util", "client_cpu_util"):
        return f"{x:.2f}"
    if key == "mallocs_per_req" and x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if abs(x) >= 0.1 else f"{x:.3f}"


def median(values):
    vals = [v for v in values if v == v]
    return statistics.median(vals) if vals else float("nan")


def line_for(impl, conns, size, med, n, countable):
    parts = [f"bench-conns impl={impl} conns={conns} size={size}"]
    for k in KEYS:
        if k == "mallocs_per_req" and not countable:
            parts.append("mallocs_per_req=n/a")
        else:
            parts.append(f"{k}={fmt(med[k], k)}")
    parts.append(f"rounds={n}")
    return " ".join(parts)


def ratio(a, b):
    if a is None or b is None or a != a or b != b or b == 0:
        return None
    return a / b


def cell(value, key, base, countable=True):
    if not countable:
        return "n/a"
    text = fmt(value, key)
    r = ratio(value, base)
    if r is not None and base is not None:
        text += f" ({r:.2f}×)"
    return text


def saturation(med):
    s, c = med["server_cpu_util"], med["client_cpu_util"]
    if s >= 0.9 and c >= 0.9:
        who = "both"
    elif s >= 0.9:
        who = "server"
    elif c >= 0.9:
        who = "client"
    else:
        who = "neither"
    return f"{s:.2f} / {c:.2f} ({who})"


def markdown(results, impls, conns_list, sizes, args, conditions, skipped, failures):
    countable = {i: i != "go" for i in impls}
    out = []
    out.append("## Many connections (`make bench-conns`)")
    out.append("")
    out.append("A closed-loop echo load: the C load generator (`Conns/c/loadgen.c`, one thread, pinned to CPU "
               f"{args.client_cpu}) keeps N connections each sending S bytes and awaiting and verifying the whole echo; "
               f"each server runs one thread pinned to CPU {args.server_cpu}. How it is measured: "
               "[README.md](README.md#bench-conns).")
    out.append("")
    for k, v in conditions:
        out.append(f"- {k}: {v}")
    out.append("")
    out.append("Figures are medians over rounds; in parentheses the ratio to `c-epoll` in the same row group. "
               "CPU util is server / load generator CPU seconds per wall second in the window "
               "(≥ 0.9: that side saturated its core; when neither did, the two cores were shared with other work "
               "and the figures are noisier).")
    out.append("")
    out.append("| impl | conns | size | rps | p50 µs | p99 µs | server CPU µs/req | server RSS KB | syscalls/req | "
               "mallocs/req | CPU util server / client |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for conns in conns_list:
        for size in sizes:
            base = results.get(("c-epoll", conns, size))
            for impl in impls:
                med = results.get((impl, conns, size))
                if med is None:
                    continue
                b = base or {}
                out.append("| " + " | ".join([
                    f"`{impl}`", str(conns), str(size),
                    cell(med["rps"], "rps", b.get("rps")),
                    cell(med["p50_us"], "p50_us", b.get("p50_us")),
                    cell(med["p99_us"], "p99_us", b.get("p99_us")),
                    cell(med["server_cpu_us_per_req"], "server_cpu_us_per_req", b.get("server_cpu_us_per_req")),
                    cell(med["server_rss_kb"], "server_rss_kb", b.get("server_rss_kb")),
                    cell(med["syscalls_per_req"], "syscalls_per_req", b.get("syscalls_per_req")),
                    fmt(med["mallocs_per_req"], "mallocs_per_req") if countable[impl] else "n/a",
                    saturation(med),
                ]) + " |")
    out.append("")
    # Memory growth per connection, 100 -> 10,000 (or the widest span measured).
    lo, hi = min(conns_list), max(conns_list)
    if lo != hi:
        out.append(f"Resident memory growth per connection from {lo} to {hi} connections "
                   "(KB per connection, from the median RSS at the end of the window):")
        out.append("")
        out.append("| impl | " + " | ".join(f"size {s}" for s in sizes) + " |")
        out.append("|---|" + "---:|" * len(sizes))
        for impl in impls:
            cells = []
            for s in sizes:
                a, b = results.get((impl, lo, s)), results.get((impl, hi, s))
                cells.append(f"{(b['server_rss_kb'] - a['server_rss_kb']) / (hi - lo):.2f}" if a and b else "—")
            if any(c != "—" for c in cells):
                out.append(f"| `{impl}` | " + " | ".join(cells) + " |")
        out.append("")
    out.append("Ratios to `c-epoll`, min–max over the rows (conns × size) above:")
    out.append("")
    out.append("| impl | rps | server CPU/req | p99 | syscalls/req | server RSS |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for impl in impls:
        if impl == "c-epoll":
            continue
        cells = []
        for key in ("rps", "server_cpu_us_per_req", "p99_us", "syscalls_per_req", "server_rss_kb"):
            rs = [ratio(results[(impl, c, s)][key], results[("c-epoll", c, s)][key])
                  for c in conns_list for s in sizes if (impl, c, s) in results and ("c-epoll", c, s) in results]
            rs = [r for r in rs if r is not None]
            cells.append(f"{min(rs):.2f}–{max(rs):.2f}" if rs else "—")
        if any(c != "—" for c in cells):
            out.append(f"| `{impl}` | " + " | ".join(cells) + " |")
    out.append("")
    out.append("### Targets (issue 15)")
    out.append("")
    out.extend(targets(results, conns_list, sizes))
    out.append("")
    if skipped:
        out.append("Not measured: " + "; ".join(f"`{k}` ({v})" for k, v in skipped.items()) + ".")
        out.append("")
    if failures:
        out.append("Failed runs: " + "; ".join(failures) + ".")
        out.append("")
    return "\n".join(out)


def targets(results, conns_list, sizes):
    rows = ["| target (every row, medians) | verdict | worst row |", "|---|---|---|"]

    def check(name, impl, fn, text_fn, lower_is_worse=False):
        found = []
        for conns in conns_list:
            for size in sizes:
                r = fn(conns, size)
                if r is not None:
                    found.append((r[0], r[1], f"{conns}×{size} B"))
        if not found:
            rows.append(f"| {name} | not computable (`{impl}` or a reference not measured) | — |")
            return
        n_ok = sum(1 for ok, _, _ in found if ok)
        worst = (min if lower_is_worse else max)(found, key=lambda f: f[1])
        mark = "✓" if n_ok == len(found) else "✗"
        rows.append(f"| {name} | {mark} {n_ok}/{len(found)} rows | {worst[2]}: {text_fn(worst[1])} |")

    def get(impl, conns, size, key):
        r = results.get((impl, conns, size))
        return None if r is None or r[key] != r[key] else r[key]

    def rel(impl, ref, key, bound, lower=False):
        def fn(c, s):
            a, b = get(impl, c, s, key), get(ref, c, s, key)
            if a is None or b is None or b == 0:
                return None
            x = a / b
            return (x >= bound if lower else x <= bound), x
        return fn

    check("`sock-poller` rps ≥ 0.95× `c-epoll`", "sock-poller", rel("sock-poller", "c-epoll", "rps", 0.95, True),
          lambda x: f"{x:.2f}×", lower_is_worse=True)
    check("`sock-poller` server CPU/req ≤ 1.1× `c-epoll`", "sock-poller",
          rel("sock-poller", "c-epoll", "server_cpu_us_per_req", 1.1), lambda x: f"{x:.2f}×")
    check("`sock-poller` p99 ≤ 1.2× `c-epoll`", "sock-poller", rel("sock-poller", "c-epoll", "p99_us", 1.2),
          lambda x: f"{x:.2f}×")

    def syscalls(c, s):
        a, b = get("sock-poller", c, s, "syscalls_per_req"), get("c-epoll", c, s, "syscalls_per_req")
        if a is None or b is None:
            return None
        return a <= b + 0.1, a - b
    check("`sock-poller` syscalls/req ≤ `c-epoll` + 0.1", "sock-poller", syscalls, lambda x: f"{x:+.2f}")
    check("`sock-async` server CPU/req ≤ 1.3× `c-epoll`", "sock-async",
          rel("sock-async", "c-epoll", "server_cpu_us_per_req", 1.3), lambda x: f"{x:.2f}×")
    check("`sock-async` server CPU/req ≤ 0.5× `nio-async`", "sock-async",
          rel("sock-async", "nio-async", "server_cpu_us_per_req", 0.5), lambda x: f"{x:.2f}×")
    check("`sock-poller` server CPU/req ≤ `nio`", "sock-poller", rel("sock-poller", "nio", "server_cpu_us_per_req", 1.0),
          lambda x: f"{x:.2f}×")
    check("`sock-async` server CPU/req ≤ `nio`", "sock-async", rel("sock-async", "nio", "server_cpu_us_per_req", 1.0),
          lambda x: f"{x:.2f}×")

    def zero_mallocs(impl):
        def fn(c, s):
            a = get(impl, c, s, "mallocs_per_req")
            return None if a is None else (a < 0.001, a)
        return fn
    check("`sock-poller` mallocs/req = 0", "sock-poller", zero_mallocs("sock-poller"), lambda x: f"{x:.3f}")
    check("`sock-async` mallocs/req = 0 (else: say what allocates)", "sock-async", zero_mallocs("sock-async"),
          lambda x: f"{x:.3f}")
    # Issue 16's targets for the io_uring engine, against the C io_uring echo.
    check("`sock-uring` rps ≥ 0.95× `c-uring`", "sock-uring", rel("sock-uring", "c-uring", "rps", 0.95, True),
          lambda x: f"{x:.2f}×", lower_is_worse=True)
    check("`sock-uring` server CPU/req ≤ 1.1× `c-uring`", "sock-uring",
          rel("sock-uring", "c-uring", "server_cpu_us_per_req", 1.1), lambda x: f"{x:.2f}×")
    check("`sock-uring` mallocs/req = 0", "sock-uring", zero_mallocs("sock-uring"), lambda x: f"{x:.3f}")

    def uring_syscalls(c, s):
        a, b = get("sock-uring", c, s, "syscalls_per_req"), get("c-uring", c, s, "syscalls_per_req")
        if a is None or b is None:
            return None
        # ≤ 1.2× the C echo's, with 0.02 of slack for the near-zero rows.
        return a <= 1.2 * b + 0.02, a - b
    check("`sock-uring` syscalls/req ≤ 1.2× `c-uring` (+0.02)", "sock-uring", uring_syscalls, lambda x: f"{x:+.3f}")
    check("`sock-uring-async` server CPU/req ≤ 1.2× `sock-uring`", "sock-uring-async",
          rel("sock-uring-async", "sock-uring", "server_cpu_us_per_req", 1.2), lambda x: f"{x:.2f}×")
    check("`sock-uring-async` mallocs/req = 0", "sock-uring-async", zero_mallocs("sock-uring-async"), lambda x: f"{x:.3f}")
    lo, hi = min(conns_list), max(conns_list)
    for impl, bound in (("sock-poller", 1.0), ("sock-async", 3.0)):
        def growth(c, s, impl=impl, bound=bound):
            if c != hi or lo == hi:
                return None
            a, b = get(impl, lo, s, "server_rss_kb"), get(impl, hi, s, "server_rss_kb")
            if a is None or b is None:
                return None
            g = (b - a) / (hi - lo)
            return g <= bound, g
        check(f"`{impl}` RSS growth {lo}→{hi} conns ≤ {bound:g} KB/conn", impl, growth, lambda x: f"{x:.2f} KB/conn")
    return rows


def update_results(path, section):
    begin, end = "<!-- bench-conns:begin -->", "<!-- bench-conns:end -->"
    text = open(path).read() if os.path.exists(path) else "# Sock benchmark results\n"
    block = f"{begin}\n{section}\n{end}"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


def busy_processes():
    try:
        out = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"], capture_output=True, text=True).stdout
    except OSError:
        return "?"
    busy = [f"{c} {p}%" for p, c in (l.split(None, 1) for l in out.splitlines() if l.strip()) if float(p) >= 20]
    return ", ".join(busy[:5]) or "none above 20 %"


def main():
    ap = argparse.ArgumentParser(description="many-connection echo benchmark (make bench-conns)")
    ap.add_argument("--impls", default=",".join(DEFAULT_IMPLS), help="comma-separated, of: " + ",".join(ALL_IMPLS))
    ap.add_argument("--conns", default="100,1000,10000")
    ap.add_argument("--sizes", default="64,4096")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "5")))
    ap.add_argument("--window", type=float, default=5.0, help="measurement window, seconds")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up, seconds")
    ap.add_argument("--quick", action="store_true", help="smoke test: 1 round, 2 s window, 100 connections")
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--results", default=None,
                    help="markdown file to update (default: Benchmarks/RESULTS.md, except with --quick)")
    ap.add_argument("--no-results", action="store_true", help="do not write a results file")
    ap.add_argument("--check", action="store_true",
                    help="before measuring, check each server's echo with half-closing clients (always with --quick)")
    ap.add_argument("--profile", metavar="DIR",
                    help="instead of measuring: one run per row with `perf record -e cpu-clock -g` on the server over "
                         "the window; DIR/IMPL-cN-sS.data and a flat report DIR/IMPL-cN-sS.txt (Swift demangled)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--swift", default=os.environ.get("SWIFT", "swift"))
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.window = 1, 2.0
        if args.conns == "100,1000,10000":
            args.conns = "100"
    impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    for i in impls:
        if i not in ALL_IMPLS:
            sys.exit(f"bench-conns: unknown implementation {i!r} (known: {', '.join(ALL_IMPLS)})")
    conns_list = [int(x) for x in args.conns.split(",")]
    sizes = [int(x) for x in args.sizes.split(",")]
    results_path = None if args.no_results else (args.results or (None if args.quick else os.path.join(BENCH, "RESULTS.md")))

    atexit.register(kill_all)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # fact 14; the children inherit it
    if max(conns_list) + 100 > hard:
        sys.exit(f"bench-conns: {max(conns_list)} connections need a descriptor limit above {hard}")

    skipped = {} if args.no_build else build(impls, args.swift)
    for impl, why in skipped.items():
        print(f"bench-conns impl={impl} skipped: {why}", flush=True)
    active = [i for i in impls if i not in skipped]
    failures = []
    perf_ok = shutil.which("perf") is not None and subprocess.run(
        ["perf", "stat", "-e", "raw_syscalls:sys_enter", "true"], capture_output=True).returncode == 0
    if not perf_ok:
        log("perf (raw_syscalls:sys_enter) is not available: syscalls_per_req is nan "
            "(apt-get install -y linux-perf; needs perf_event_paranoid ≤ 1 or root)")

    if args.check or args.quick:
        for impl in list(active):
            err = half_close_check(impl, args, None)
            print(f"bench-conns check impl={impl} half-close echo (20 clients, 1 B–200 KB, SHUT_WR after sending): "
                  + ("ok" if not err else f"FAILED: {err}"), flush=True)
            if err:
                failures.append(f"{impl} half-close check: {err}")

    load_before = open("/proc/loadavg").read().split()[:3]
    busy_before = busy_processes()
    started_at = datetime.datetime.now(datetime.timezone.utc)
    runs = {}
    total = args.rounds * len(conns_list) * len(sizes) * len(active)
    done = 0
    uname = os.uname()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    sock_echo = os.environ.get("SOCK_ECHO")

    def summarize(rounds_done, final):
        finished_at = datetime.datetime.now(datetime.timezone.utc)
        load_now = open("/proc/loadavg").read().split()[:3]
        results = {}
        for conns in conns_list:
            for size in sizes:
                for impl in active:
                    ms = runs.get((impl, conns, size))
                    if ms:
                        results[(impl, conns, size)] = {k: median([m[k] for m in ms]) for k in KEYS}
        conditions = [
            ("Date", f"{started_at:%Y-%m-%dT%H:%M:%SZ} – {finished_at:%H:%M:%SZ}"
                     + ("" if final else f" (in progress: {rounds_done} of {args.rounds} rounds done)")),
            ("Machine", f"{os.cpu_count()} vCPU, kernel {uname.release}"),
            ("Commit", (commit or "?") + (f"; sock-echo: `SOCK_ECHO={sock_echo}`" if sock_echo else "")),
            ("Method", f"{rounds_done} round(s), implementations alternating run by run; warm-up {args.warmup:g} s, "
                       f"window {args.window:g} s; a fresh server process per run; malloc counter preloaded in every "
                       "server but Go's; `perf stat -e raw_syscalls:sys_enter -p PID` over the window"
                       + ("" if perf_ok else " (perf unavailable: syscalls not measured)")),
            ("Load average before / " + ("after" if final else "now"),
             f"{' '.join(load_before)} / {' '.join(load_now)}; busy processes at the start: {busy_before}"),
        ]
        return results, markdown(results, active, conns_list, sizes, args, conditions, skipped, failures)

    if args.profile:
        if not perf_ok:
            sys.exit("bench-conns: --profile needs perf")
        os.makedirs(args.profile, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="bench-conns-") as tmp:
            for conns in conns_list:
                for size in sizes:
                    for impl in active:
                        base = os.path.join(os.path.abspath(args.profile), f"{impl}-c{conns}-s{size}")
                        m, err = one_run(impl, conns, size, args, tmp, True, profile=base)
                        if err:
                            print(f"bench-conns profile impl={impl} conns={conns} size={size} FAILED: {err}", flush=True)
                            continue
                        report = "".join(subprocess.run(
                            ["perf", "report", "-i", base + ".data", "--stdio", "--no-children", "-g", "none",
                             "--percent-limit", "0.5", "--sort", sort], capture_output=True, text=True).stdout
                            for sort in ("dso", "dso,symbol"))
                        report = "\n".join(l.rstrip() for l in report.splitlines()) + "\n"
                        if shutil.which(args.swift):
                            report = subprocess.run([args.swift, "demangle", "--simplified"], input=report,
                                                    capture_output=True, text=True).stdout or report
                        header = (f"# {impl} conns={conns} size={size}: rps={fmt(m['rps'], 'rps')} "
                                  f"server_cpu_us_per_req={fmt(m['server_cpu_us_per_req'])} (under perf record)\n"
                                  f"# call graphs: perf report -i {base}.data --no-children\n")
                        with open(base + ".txt", "w") as f:
                            f.write(header + report)
                        print(f"bench-conns profile impl={impl} conns={conns} size={size}: {base}.txt", flush=True)
        kill_all()
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-conns-") as tmp:
        for rnd in range(args.rounds):
            for conns in conns_list:
                for size in sizes:
                    order = active[rnd % len(active):] + active[:rnd % len(active)] if active else []
                    for impl in order:
                        done += 1
                        m, err = one_run(impl, conns, size, args, tmp, perf_ok)
                        if err:
                            msg = f"{impl} conns={conns} size={size} round {rnd + 1}: {err}"
                            failures.append(msg)
                            print(f"bench-conns impl={impl} conns={conns} size={size} FAILED: {err}", flush=True)
                            continue
                        runs.setdefault((impl, conns, size), []).append(m)
                        log(f"[{done}/{total}] round {rnd + 1} {impl} conns={conns} size={size} "
                            + " ".join(f"{k}={'n/a' if k == 'mallocs_per_req' and impl == 'go' else fmt(m[k], k)}"
                                       for k in KEYS))
            if results_path and runs and rnd + 1 < args.rounds:
                # Each finished round updates the results file (marked in progress), so a run
                # cut short still leaves its medians so far.
                update_results(results_path, summarize(rnd + 1, False)[1])

    results, text = summarize(args.rounds, True)
    for conns in conns_list:
        for size in sizes:
            for impl in active:
                med = results.get((impl, conns, size))
                if med:
                    print(line_for(impl, conns, size, med, len(runs[(impl, conns, size)]), impl != "go"), flush=True)
    if results_path and results:
        update_results(results_path, text)
        log(f"summary written to {results_path}")
    elif results:
        print(text)
    kill_all()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

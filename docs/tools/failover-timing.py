#!/usr/bin/env python3
"""How long a tour takes to report a node killed under it, and an unreachable seed.

Starts three `./dsm node` JVMs (conf/multi-jvm.conf, plus conf/fast-failover.conf with
--fast), runs `./dsm tour` against them, kills the tour's node 2 with SIGKILL when the tour
reaches step 7, and prints the seconds from the kill to the tour's error line and to its
exit. With --seed-only, times `./dsm tour --join 127.0.0.1:1` instead. Run from the
repository's root after `./dsm --version` has built the jar.
"""
import argparse
import os
import signal
import subprocess
import sys
import threading
import time

JAR = ["java", "-jar", "sample-apps/target/pekko-dsm-samples.jar"]


def lines(proc, sink, prefix):
    for raw in proc.stdout:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        sink.append((time.monotonic(), line))
        if prefix:
            print(prefix + line, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fast", action="store_true", help="add conf/fast-failover.conf everywhere")
    ap.add_argument("--seed-only", action="store_true")
    ap.add_argument("--base-port", type=int, default=26521)
    args = ap.parse_args()
    if args.seed_only:
        start = time.monotonic()
        out = subprocess.run(JAR + ["tour", "--join", "127.0.0.1:1"], capture_output=True)
        took = time.monotonic() - start
        print("exit %d after %.2f s: %s" % (out.returncode, took, out.stderr.decode().strip()))
        return
    confs = ["--config", "conf/multi-jvm.conf"]
    if args.fast:
        confs += ["--config", "conf/fast-failover.conf"]
    ports = [args.base_port + i for i in range(3)]
    seeds = ["--seed", "127.0.0.1:%d" % ports[0], "--seed", "127.0.0.1:%d" % ports[1]]
    nodes, outs = [], []
    try:
        for port in ports:
            p = subprocess.Popen(JAR + ["node"] + confs + ["--port", str(port)] + seeds,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            sink = []
            threading.Thread(target=lines, args=(p, sink, None), daemon=True).start()
            nodes.append(p)
            outs.append(sink)
        deadline = time.monotonic() + 180
        while not all(any(l.startswith("READY ") for _, l in o) for o in outs):
            if time.monotonic() > deadline:
                sys.exit("the nodes did not start")
            time.sleep(0.2)
        tour = subprocess.Popen(JAR + ["tour"] + confs + ["--join", "127.0.0.1:%d" % ports[0]],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        said = []
        threading.Thread(target=lines, args=(tour, said, "tour| "), daemon=True).start()
        while not any(l.startswith("7. ") for _, l in said):
            if tour.poll() is not None:
                sys.exit("the tour ended before step 7")
            time.sleep(0.05)
        victim = nodes[0]  # node 2 of the tour: the first Up in address order
        killed = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        tour.wait(timeout=180)
        exited = time.monotonic()
        error = [(t, l) for t, l in said if l.startswith("./dsm tour:") and t >= killed]
        if not error:
            sys.exit("the tour did not report an error (exit %d)" % tour.returncode)
        print("%s: kill -9 -> error line %.2f s, -> exit %.2f s (exit code %d)" % (
            "fast-failover" if args.fast else "default", error[0][0] - killed,
            exited - killed, tour.returncode))
    finally:
        for p in nodes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in nodes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()

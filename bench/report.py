#!/usr/bin/env python3
"""report.py OUT — turn script/bench's raw samples in OUT into the table
(printed, and OUT/table.txt), OUT/results.json and OUT/handshake-latency.png.

Every figure has its budget next to it and PASS or MISS (or "report" where
the issue asks for a number, not a limit). Medians; spread as p10..p90 of the
samples; ratios of medians, with the range of the per-round ratios (the
rounds are interleaved, so a drift of the machine hits both sides)."""
import csv
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict

OUT = sys.argv[1]


def rows(name):
    path = os.path.join(OUT, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def quantile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def med(xs):
    return quantile(xs, 0.5)


def stats(xs):
    return {"n": len(xs), "median": med(xs), "p10": quantile(xs, 0.1), "p90": quantile(xs, 0.9)}


results = {"machine": {}, "figures": []}
table = []


def add(fig, what, value, unit, budget, ok, detail=""):
    """ok: True/False against the budget, None for a reported number."""
    verdict = "report" if ok is None else ("PASS" if ok else "MISS")
    table.append((fig, what, value, unit, budget, verdict, detail))
    results["figures"].append({"figure": fig, "what": what, "value": value, "unit": unit,
                               "budget": budget, "verdict": verdict, "detail": detail})


def fmt(v, unit):
    if isinstance(v, str):
        return v
    if unit == "x":
        return "%.3f" % v
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.2f" % v


try:
    with open(os.path.join(OUT, "machine.txt")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            results["machine"][k] = v
except OSError:
    pass

# ---------------------------------------------------------- figures 1 and 2
hs = defaultdict(list)            # (figure, key, config) -> [ns]
hs_round = defaultdict(list)      # (figure, key, config, round) -> [ns]
for r in rows("handshakes.csv"):
    ns = int(r["ns"])
    hs[(r["figure"], r["key"], r["config"])].append(ns)
    hs_round[(r["figure"], r["key"], r["config"], r["round"])].append(ns)
results["handshakes"] = {"|".join(k): stats(v) for k, v in hs.items()}
hcpu = defaultdict(list)          # (figure, key, config) -> [cpu ns per handshake, per block]
for r in rows("handshakes-cpu.csv"):
    hcpu[(r["figure"], r["key"], r["config"])].append(int(r["cpu_ns_per_handshake"]))

for fig, budget, title in (("full", 1.03, "1 full handshake"), ("resume", 1.05, "2 resumed handshake")):
    for key in ("ecdsa-p256", "rsa-2048"):
        base = hs.get((fig, key, "none"))
        if not base:
            continue
        b = stats(base)
        add(title, "%s no preload: median (p10..p90)" % key, b["median"] / 1000, "us", "-", None,
            "%.0f..%.0f us, n=%d" % (b["p10"] / 1000, b["p90"] / 1000, b["n"]))
        for cfg in ("tlspin-pinned", "tlspin-unpinned"):
            xs = hs.get((fig, key, cfg))
            if not xs:
                continue
            s = stats(xs)
            rounds = sorted({k[3] for k in hs_round if k[0] == fig and k[1] == key})
            rr = [med(hs_round[(fig, key, cfg, q)]) / med(hs_round[(fig, key, "none", q)])
                  for q in rounds if hs_round.get((fig, key, cfg, q)) and hs_round.get((fig, key, "none", q))]
            # The ratio is paired: each round runs every configuration back to
            # back, so the machine's state (the shared host's load) is the same
            # for both sides of a round's ratio. Medians pooled over all rounds
            # mix those states, and when some rounds are slow for everyone the
            # pooled median jumps between modes (see README, Performance).
            ratio = med(rr) if rr else s["median"] / b["median"]
            add(title, "%s %s / no preload" % (key, cfg), ratio, "x", "<= %.2f" % budget,
                ratio <= budget,
                "median of %d per-round ratios (%.3f..%.3f); pooled medians %.0f / %.0f us = %.3f" %
                (len(rr), min(rr) if rr else float("nan"), max(rr) if rr else float("nan"),
                 s["median"] / 1000, b["median"] / 1000, s["median"] / b["median"]))
            cb, ct = hcpu.get((fig, key, "none")), hcpu.get((fig, key, cfg))
            if cb and ct:
                add(title, "  client CPU per handshake, %s / none" % cfg, med(ct) / med(cb), "x",
                    "-", None, "%.0f us vs %.0f us (+%.1f us), medians of %d blocks" %
                    (med(ct) / 1000, med(cb) / 1000, (med(ct) - med(cb)) / 1000, len(ct)))

# ----------------------------------------------------------------- figure 3
cr = defaultdict(list)
ccpu = defaultdict(list)
cround = defaultdict(dict)        # round -> config -> ns per request
for r in rows("curl.csv"):
    cr[r["config"]].append(int(r["ns"]) / int(r["requests"]))
    ccpu[r["config"]].append(int(r["cpu_ns"]) / int(r["requests"]))
    cround[r["round"]][r["config"]] = int(r["ns"]) / int(r["requests"])
if cr.get("curl-pinnedpubkey") and cr.get("curl-tlspin"):
    a, t = stats(cr["curl-pinnedpubkey"]), stats(cr["curl-tlspin"])
    add("3 curl", "curl --pinnedpubkey, per request", a["median"] / 1000, "us", "-", None,
        "p10..p90 %.0f..%.0f us, %d runs" % (a["p10"] / 1000, a["p90"] / 1000, a["n"]))
    add("3 curl", "curl under tlspin, per request", t["median"] / 1000, "us", "-", None,
        "p10..p90 %.0f..%.0f us, %d runs" % (t["p10"] / 1000, t["p90"] / 1000, t["n"]))
    # paired by round, as figures 1 and 2
    pr = [v["curl-tlspin"] / v["curl-pinnedpubkey"] for v in cround.values()
          if "curl-tlspin" in v and "curl-pinnedpubkey" in v]
    ratio = med(pr) if pr else t["median"] / a["median"]
    add("3 curl", "curl under tlspin / curl --pinnedpubkey", ratio, "x", "<= 1.02", ratio <= 1.02,
        "wall time per request, median of %d per-run ratios; pooled medians %.3f" %
        (len(pr), t["median"] / a["median"]))
    c_a, c_t = med(ccpu["curl-pinnedpubkey"]), med(ccpu["curl-tlspin"])
    add("3 curl", "  curl CPU per request, tlspin / --pinnedpubkey", c_t / c_a, "x", "-", None,
        "%.0f us vs %.0f us (+%.1f us)" % (c_t / 1000, c_a / 1000, (c_t - c_a) / 1000))

# ----------------------------------------------------------------- figure 4
for name, prog in (("exec-true.csv", "/bin/true"), ("exec-sh.csv", "sh -c :")):
    ex = defaultdict(list)
    for r in rows(name):
        ex[r["label"]].append(int(r["ns"]))
    if not ex:
        continue
    for cfg in ("none", "empty", "tlspin"):
        if ex.get(cfg):
            s = stats(ex[cfg])
            add("4 exec", "%s, %s preload" % (prog, cfg), s["median"] / 1000, "us", "-", None,
                "p10..p90 %.0f..%.0f us, n=%d" % (s["p10"] / 1000, s["p90"] / 1000, s["n"]))
    if ex.get("empty") and ex.get("tlspin"):
        ratio = med(ex["tlspin"]) / med(ex["empty"])
        add("4 exec", "%s: tlspin / empty preload" % prog, ratio, "x", "<= 1.05", ratio <= 1.05,
            "tlspin - empty = %.1f us; empty - none = %.1f us" %
            ((med(ex["tlspin"]) - med(ex["empty"])) / 1000,
             (med(ex["empty"]) - med(ex.get("none", ex["empty"]))) / 1000))
mem = defaultdict(lambda: defaultdict(list))
for r in rows("memory.csv"):
    for k in ("rss_kib", "pss_kib", "private_kib"):
        mem[r["config"]][k].append(int(r[k]))
if mem.get("none") and mem.get("tlspin"):
    added = med(mem["tlspin"]["rss_kib"]) - med(mem["none"]["rss_kib"])
    added_e = med(mem["tlspin"]["rss_kib"]) - med(mem["empty"]["rss_kib"])
    priv = med(mem["tlspin"]["private_kib"]) - med(mem["none"]["private_kib"])
    add("4 exec", "resident memory added (sleep; Rss tlspin - none)", added, "KiB", "<= 64",
        added <= 64, "vs empty preload %+.0f KiB; private %+.0f KiB; Rss none %.0f KiB" %
        (added_e, priv, med(mem["none"]["rss_kib"])))

# ----------------------------------------------------------------- figure 5
first = defaultdict(lambda: defaultdict(list))
for r in rows("first.csv"):
    first[int(r["hosts"])][r["config"]].append(int(r["first_ns"]))
for r in rows("scale.csv"):
    n = int(r["hosts"])
    budgeted = n == 10000
    cost = None
    if first[n].get("none") and first[n].get("tlspin"):
        cost = (med(first[n]["tlspin"]) - med(first[n]["none"])) / 1e6
        add("5 scale", "%d hosts: first handshake, added by tlspin" % n, cost, "ms",
            "<= 50" if budgeted else "-", (cost <= 50) if budgeted else None,
            "first handshake %.2f ms vs %.2f ms without; policy_load alone %.2f ms" %
            (med(first[n]["tlspin"]) / 1e6, med(first[n]["none"]) / 1e6, int(r["load_ns"]) / 1e6))
    hit = float(r["hit_ns"]) / 1000
    add("5 scale", "%d hosts: decide(), pinned host" % n, hit, "us",
        "<= 2" if budgeted else "-", (hit <= 2) if budgeted else None,
        "unpinned host %.2f us; verdicts %s/%s" % (float(r["miss_ns"]) / 1000,
                                                   r["verdict_hit"], r["verdict_miss"]))
    add("5 scale", "%d hosts: memory per host" % n, int(r["heap_bytes"]) / n, "B", "-", None,
        "heap +%.0f KiB, RSS +%s KiB for the policy" % (int(r["heap_bytes"]) / 1024, r["rss_kib"]))

# ----------------------------------------------------------------- figure 6
thr = defaultdict(lambda: defaultdict(list))
for r in rows("threads.csv"):
    thr[r["config"]][int(r["threads"])].append(float(r["rate"]))
ratios = {}
for cfg in ("none", "tlspin"):
    if thr[cfg].get(1) and thr[cfg].get(2):
        ratios[cfg] = med(thr[cfg][2]) / med(thr[cfg][1])
for cfg in ("none", "tlspin"):
    if cfg in ratios:
        add("6 threads", "%s: 2 threads / 1 thread, handshake rate" % cfg, ratios[cfg], "x",
            ">= 1.80", ratios[cfg] >= 1.8,
            "%.0f/s vs %.0f/s" % (med(thr[cfg][2]), med(thr[cfg][1])))
if "none" in ratios and "tlspin" in ratios:
    rel = ratios["tlspin"] / ratios["none"]
    add("6 threads", "scaling under tlspin / scaling without", rel, "x", ">= 0.97 (same)",
        rel >= 0.97)

# ----------------------------------------------------------------- figure 7
cg = defaultdict(dict)
for r in rows("callgrind.csv"):
    if r["ir"]:
        cg[(r["what"], r["config"])][int(r["handshakes"])] = int(r["ir"])


def per_op(what, cfg):
    d = cg.get((what, cfg), {})
    if len(d) < 2:
        return None
    (n1, a), (n2, b) = sorted(d.items())[:2]
    return (b - a) / (n2 - n1)


tl, no = per_op("handshake", "tlspin"), per_op("handshake", "none")
floor = per_op("floor", "engine")
if tl is not None and no is not None:
    inside = tl - no
    add("7 instructions", "client handshake, no preload", no, "Ir", "-", None)
    add("7 instructions", "added by tlspin per handshake", inside, "Ir", "-", None,
        "%.1f%% of the handshake" % (100 * inside / no))
    dec, ch = per_op("decide", "engine"), per_op("chain", "engine")
    if dec is not None:
        add("7 instructions", "  of which decide() (stack + file lookup)", dec, "Ir", "-", None)
    if ch is not None:
        add("7 instructions", "  of which pins of the chain (SHA-256 each)", ch, "Ir", "-", None)
    if floor is not None:
        add("7 instructions", "floor: SHA-256 per cert + one lookup", floor, "Ir", "-", None,
            "3 certificates (leaf, intermediate, root)")
        add("7 instructions", "tlspin per handshake / floor", inside / floor, "x", "-", None)
for what, label in (("handshake-i1miss", "handshake"), ("resumed-i1miss", "resumed handshake")):
    mt, mn = per_op(what, "tlspin"), per_op(what, "none")
    if mt is not None and mn is not None and mn > 0:
        add("7 instructions", "I1 cache misses added per %s" % label, mt - mn, "miss", "-", None,
            "%.1f%% more than the %s's %.0f (simulated, valgrind)" % (100 * (mt - mn) / mn, label, mn))
ctl, cpp = per_op("curl", "tlspin"), per_op("curl", "pinnedpubkey")
if ctl is not None and cpp is not None:
    add("7 instructions", "curl per request, --pinnedpubkey", cpp, "Ir", "-", None)
    add("7 instructions", "curl per request, tlspin / --pinnedpubkey", ctl / cpp, "x", "-", None,
        "the stable measure behind figure 3: %+.0f Ir per request" % (ctl - cpp))
rtl, rno = per_op("resumed", "tlspin"), per_op("resumed", "none")
if rtl is not None and rno is not None:
    add("7 instructions", "resumed handshake, no preload", rno, "Ir", "-", None)
    add("7 instructions", "added by tlspin per resumed handshake", rtl - rno, "Ir", "-", None,
        "%.1f%% of the resumed handshake" % (100 * (rtl - rno) / rno))

# ----------------------------------------------------------------- output
m = results["machine"]
head = "tlspin benchmark — %s, %s cores, %s, %s (%s)" % (
    m.get("cpu", "?"), m.get("nproc", "?"), m.get("kernel", "?"), m.get("openssl", "?"),
    m.get("date", "?"))
lines = [head, m.get("params", ""), ""]
w = max(len(t[1]) for t in table) if table else 10
lines.append("%-15s %-*s %12s %-5s %-15s %-7s %s" % ("figure", w, "measure", "value", "unit",
                                                     "budget", "verdict", "detail"))
for fig, what, value, unit, budget, verdict, detail in table:
    lines.append("%-15s %-*s %12s %-5s %-15s %-7s %s" % (fig, w, what, fmt(value, unit), unit,
                                                         budget, verdict, detail))
misses = [t for t in table if t[5] == "MISS"]
lines.append("")
lines.append("%d budgets checked, %d missed" % (sum(1 for t in table if t[5] != "report"),
                                                 len(misses)))

# plot: distribution (CDF) of full-handshake latency with and without tlspin
plot_files = []
for key in ("ecdsa-p256", "rsa-2048"):
    for cfg in ("none", "tlspin-pinned", "tlspin-unpinned"):
        xs = sorted(hs.get(("full", key, cfg), []))
        if not xs:
            continue
        path = os.path.join(OUT, "cdf-%s-%s.dat" % (key, cfg))
        with open(path, "w") as f:
            for i, x in enumerate(xs):
                f.write("%.3f %.5f\n" % (x / 1000, (i + 1) / len(xs)))
        plot_files.append((key, cfg, path))
png = os.path.join(OUT, "handshake-latency.png")
if plot_files and shutil.which("gnuplot"):
    lo = min(quantile(hs[("full", k, c)], 0.005) for k, c, _ in plot_files) / 1000
    hi = max(quantile(hs[("full", k, c)], 0.95) for k, c, _ in plot_files) / 1000
    script = ['set terminal pngcairo size 1000,600 font "sans,10" noenhanced',
              'set output "%s"' % png,
              'set title "TLS 1.3 full handshake latency, client and server on 127.0.0.1 (%s)"'
              % m.get("cpu", ""),
              'set xlabel "handshake latency (us): TCP connect + SSL_connect"',
              'set ylabel "fraction of handshakes <= x (x axis cut at p95)"',
              'set key bottom right', 'set grid',
              'set xrange [%f:%f]' % (lo * 0.98, hi * 1.02), 'set yrange [0:1]']
    styles = {"none": "dt 1 lw 2", "tlspin-pinned": "dt 2 lw 2", "tlspin-unpinned": "dt 3 lw 2"}
    colors = {"ecdsa-p256": "#1f77b4", "rsa-2048": "#d62728"}
    parts = ['"%s" using 1:2 with lines %s lc rgb "%s" title "%s, %s"' %
             (p, styles[c], colors[k], k, "no preload" if c == "none" else c)
             for k, c, p in plot_files]
    script.append("plot " + ", ".join(parts))
    r = subprocess.run(["gnuplot"], input="\n".join(script), text=True, capture_output=True)
    if r.returncode != 0:
        lines.append("plot: gnuplot failed: " + r.stderr.strip())
    else:
        lines.append("plot: " + png)
else:
    lines.append("plot: not made (no gnuplot: apt-get install gnuplot-nox)")

text = "\n".join(lines) + "\n"
sys.stdout.write(text)
with open(os.path.join(OUT, "table.txt"), "w") as f:
    f.write(text)
with open(os.path.join(OUT, "results.json"), "w") as f:
    json.dump(results, f, indent=1, sort_keys=True)

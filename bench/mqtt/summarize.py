"""Summarise the result lines of bench/mqtt/run.sh.

Reads the JSON lines that osap-mqtt-load printed (one per run), groups them by
scenario and server (the generator's --label), and prints a Markdown section with
the medians and the osapd/Mosquitto ratios, then one JSON line with the same
numbers (always the last line of the output).
"""
import argparse
import json
import statistics
import sys

SERVERS = ("mosquitto", "osapd")
NAMES = {"mosquitto": "Mosquitto", "osapd": "osapd"}


def median(runs, *path):
    vals = []
    for r in runs:
        v = r
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        if isinstance(v, (int, float)):
            vals.append(v)
    return statistics.median(vals) if vals else None


def spread(runs, key):
    vals = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
    return (min(vals), max(vals)) if vals else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def fmt_int(v):
    return "–" if v is None else "{:,.0f}".format(v)


def fmt_ms(v):
    return "–" if v is None else "{:.2f}".format(v / 1000.0)


def fmt_ratio(v):
    return "–" if v is None else "{:.2f}".format(v)


def with_spread(v, sp, fmt):
    if v is None:
        return "–"
    if sp is None or sp[0] == sp[1]:
        return fmt(v)
    return "{} ({}–{})".format(fmt(v), fmt(sp[0]), fmt(sp[1]))


def summarise_flow(runs):
    if not runs:
        return None
    return {
        "runs": len(runs),
        "delivered_per_s": median(runs, "delivered_per_s"),
        "p50_us": median(runs, "latency_us", "p50"),
        "p99_us": median(runs, "latency_us", "p99"),
        "max_us": median(runs, "latency_us", "max"),
        "lost": sum(r.get("lost", 0) for r in runs),
        "duplicates": sum(r.get("duplicates", 0) for r in runs),
        "server_cpu_pct": median(runs, "server_cpu_pct"),
        "gen_cpu_pct": median(runs, "gen_cpu_pct"),
        "spread": spread(runs, "delivered_per_s"),
    }


def summarise_idle(runs):
    if not runs:
        return None
    return {
        "runs": len(runs),
        "connected": median(runs, "connected"),
        "bytes_per_conn": median(runs, "bytes_per_conn"),
        "connect_s": median(runs, "connect_s"),
        "alive_end": median(runs, "alive_end"),
        "spread": spread(runs, "bytes_per_conn"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    for opt in ("command", "date", "nproc", "cpu", "kernel", "load", "mosquitto", "osapd",
                "commit", "runs", "threads", "notes", "osapd_settings"):
        ap.add_argument("--" + opt.replace("_", "-"), dest=opt, default="")
    a = ap.parse_args()

    lines = []
    with open(a.results) as f:
        for raw in f:
            raw = raw.strip()
            if raw:
                lines.append(json.loads(raw))
    failed = [r for r in lines if not r.get("ok")]
    good = [r for r in lines if r.get("ok")]
    by = {}
    for r in good:
        by.setdefault(r["scenario"], {}).setdefault(r["label"], []).append(r)
    present = [s for s in SERVERS if any(s in v for v in by.values())]
    scen_order = [s for s in ("p2p", "fanout", "idle") if s in by]

    out = {"bench": "mqtt-das-vs-mosquitto", "date": a.date, "command": a.command,
           "machine": {"nproc": int(a.nproc or 0), "cpu": a.cpu, "kernel": a.kernel},
           "load": a.load, "runs": int(a.runs or 0), "generator_threads": int(a.threads or 0),
           "servers": {"mosquitto": a.mosquitto if "mosquitto" in present else None,
                       "osapd": a.osapd if "osapd" in present else None},
           "failed_runs": len(failed), "scenarios": {}}

    md = []
    md.append("### DAS vs Mosquitto, {}".format(a.date))
    md.append("")
    md.append("- Command: `{}`".format(a.command))
    md.append("- Machine: {} cores, {}, Linux {}; load average (1/5/15 min) at start / end: {}"
              .format(a.nproc, a.cpu, a.kernel, a.load))
    srv = []
    if "mosquitto" in present:
        srv.append("Mosquitto {} (generated config: listener on loopback, allow_anonymous, no "
                   "persistence, set_tcp_nodelay true; queue limits at their defaults, "
                   "max_queued_messages 1000)".format(a.mosquitto))
    if "osapd" in present:
        srv.append("{} (commit {}; {})".format(a.osapd, a.commit, a.osapd_settings))
    md.append("- Servers: " + "; ".join(srv) + "; each run starts a fresh server")
    md.append("- Generator: osap-mqtt-load, {} thread(s), on the same cores as the server; "
              "runs alternate between the servers".format(a.threads))
    md.append("- Cells: median of {} run(s), (min–max) where runs differ; ratio = osapd / "
              "Mosquitto".format(a.runs))
    for n in [n for n in a.notes.splitlines() if n.strip()]:
        md.append("- Note: " + n)
    if failed:
        md.append("- Failed runs (not counted): {}".format(", ".join(
            "{} against {}: {}".format(r.get("scenario"), r.get("label"), r.get("error"))
            for r in failed)))
    md.append("")
    cols = [NAMES[s] for s in present]
    head = "| Scenario | Metric | " + " | ".join(cols) + " |"
    if len(present) == 2:
        head += " osapd / Mosquitto |"
    md.append(head)
    md.append("|---|---|" + "---:|" * len(present) + ("---:|" if len(present) == 2 else ""))

    def row(scen, metric, cells, rat=None):
        line = "| {} | {} | ".format(scen, metric) + " | ".join(cells) + " |"
        if len(present) == 2:
            line += " {} |".format(rat if rat is not None else "")
        md.append(line)

    for sc in scen_order:
        runs = by[sc]
        sample = next(iter(runs.values()))[0]
        if sc == "idle":
            s = {k: summarise_idle(runs.get(k, [])) for k in present}
            title = "idle, {:,} connections".format(sample["connections"])
            rat = {"memory_per_conn": ratio(*(s[k]["bytes_per_conn"] if s[k] else None
                                               for k in ("osapd", "mosquitto")))} \
                if len(present) == 2 else {}
            row(title, "server memory per connection, bytes (RSS delta / connections)",
                [with_spread(s[k]["bytes_per_conn"], s[k]["spread"], fmt_int) if s[k] else "–"
                 for k in present], fmt_ratio(rat.get("memory_per_conn")))
            row("", "connections up / alive at the end",
                ["{} / {}".format(fmt_int(s[k]["connected"]), fmt_int(s[k]["alive_end"]))
                 if s[k] else "–" for k in present])
            row("", "time to connect all, s",
                ["{:.2f}".format(s[k]["connect_s"]) if s[k] else "–" for k in present])
        else:
            s = {k: summarise_flow(runs.get(k, [])) for k in present}
            if sc == "p2p":
                title = "p2p QoS 1, {} pairs, window {}, {} B".format(
                    sample["pairs"], sample["window"], sample["payload"])
                what = "messages delivered/s"
            else:
                title = "fan-out QoS 0, 1 → {:,}, window {}, {} B".format(
                    sample["subscribers"], sample["window"], sample["payload"])
                what = "deliveries/s"
            rat = {}
            if len(present) == 2 and s["osapd"] and s["mosquitto"]:
                rat = {"throughput": ratio(s["osapd"]["delivered_per_s"],
                                           s["mosquitto"]["delivered_per_s"]),
                       "p99": ratio(s["osapd"]["p99_us"], s["mosquitto"]["p99_us"])}
            row(title, what, [with_spread(s[k]["delivered_per_s"], s[k]["spread"], fmt_int)
                              if s[k] else "–" for k in present],
                fmt_ratio(rat.get("throughput")))
            row("", "latency p50 / p99 / max, ms",
                ["{} / {} / {}".format(fmt_ms(s[k]["p50_us"]), fmt_ms(s[k]["p99_us"]),
                                       fmt_ms(s[k]["max_us"])) if s[k] else "–"
                 for k in present],
                "p99: " + fmt_ratio(rat.get("p99")) if rat else None)
            row("", "lost / duplicated (all runs)",
                ["{} / {}".format(s[k]["lost"], s[k]["duplicates"]) if s[k] else "–"
                 for k in present])
            row("", "CPU: server / generator",
                ["{:.0f}% / {:.0f}%".format(s[k]["server_cpu_pct"] or 0, s[k]["gen_cpu_pct"] or 0)
                 if s[k] else "–" for k in present])
        for k in present:
            if s.get(k):
                s[k].pop("spread", None)
        out["scenarios"][sc] = dict(s, ratio=rat)

    print("\n".join(md))
    print()
    print(json.dumps(out, separators=(",", ":"), ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

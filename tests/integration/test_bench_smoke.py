"""Smoke run of the MQTT load generator (bench/mqtt) against a real Mosquitto.

Keeps osap-mqtt-load and bench/mqtt/run.sh working: every scenario runs briefly
and must report a well-formed result line whose accounting adds up (what was
published is what was delivered, or is counted as lost). Nothing here asserts
performance: the numbers belong to docs/BENCHMARKS.md.
"""
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import osaptest  # noqa: E402

MOSQUITTO = "/usr/sbin/mosquitto"
BIN = os.environ.get("OSAP_BIN", "")
SRC = os.environ.get("OSAP_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
LOAD = os.path.join(BIN, "osap-mqtt-load")


def free_port():
    """A free port below the ephemeral range, claimed by this test (osaptest):
    one bind(0) hands out may be taken by an outgoing connection before
    Mosquitto binds it."""
    return osaptest.free_port()


class Mosquitto:
    """A private Mosquitto on a free loopback port."""

    def __init__(self, tmp, name, extra=""):
        self.port = free_port()
        conf = os.path.join(tmp, name + ".conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "set_tcp_nodelay true\nlog_dest stderr\nlog_type error\n%s"
                    % (self.port, extra))
        self.log = open(os.path.join(tmp, name + ".log"), "w")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("mosquitto did not start")
                time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def run_load(*args, expect=0, timeout=60):
    r = subprocess.run([LOAD, *args], capture_output=True, text=True, timeout=timeout)
    if r.returncode != expect:
        raise AssertionError("osap-mqtt-load %s: exit %d, expected %d\n%s%s"
                             % (" ".join(args), r.returncode, expect, r.stdout, r.stderr))
    return r


def result(r):
    lines = r.stdout.splitlines()
    assert len(lines) == 1, "expected one result line, got %r" % r.stdout
    return json.loads(lines[0])


@unittest.skipUnless(os.path.exists(MOSQUITTO), "needs Debian's mosquitto")
class BenchSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="osap-bench-smoke-")
        cls.broker = Mosquitto(cls.tmp, "mosquitto", "max_queued_messages 100000\n")

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        shutil.rmtree(cls.tmp)

    def common(self, d, scenario, connections):
        self.assertEqual(d["tool"], "osap-mqtt-load")
        self.assertEqual(d["scenario"], scenario)
        self.assertTrue(d["ok"], d.get("error"))
        self.assertEqual(d["label"], "smoke")
        self.assertEqual(d["server"], "127.0.0.1:%d" % self.broker.port)
        self.assertEqual(d["connections"], connections)
        self.assertEqual(d["connected"], connections)
        for key, value in d["errors"].items():
            self.assertEqual(value, 0, "errors.%s" % key)
        self.assertGreaterEqual(d["gen_cpu_pct"], 0)
        self.assertGreaterEqual(d["server_cpu_pct"], 0)

    def flow_checks(self, d, fan):
        lat = d["latency_us"]
        self.assertGreater(d["published"], 0)
        self.assertGreater(d["delivered_per_s"], 0)
        self.assertGreater(lat["samples"], 0)
        self.assertTrue(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"],
                        lat)
        # a loopback Mosquitto with a deep queue loses nothing: everything
        # published arrived exactly once at each receiver
        self.assertTrue(d["drained"])
        self.assertEqual(d["lost"], 0)
        self.assertEqual(d["duplicates"], 0)
        self.assertEqual(d["delivered"], d["published"] * fan)

    def test_p2p(self):
        r = run_load("-s", "p2p", "-p", str(self.broker.port), "-P", "4", "-w", "4",
                     "--warmup", "0.2", "-d", "0.5", "--server-pid", str(self.broker.proc.pid),
                     "--label", "smoke")
        d = result(r)
        self.common(d, "p2p", 8)
        self.assertEqual((d["pairs"], d["window"], d["qos"], d["payload"]), (4, 4, 1, 64))
        self.flow_checks(d, 1)
        self.assertIn("delivered/s", r.stderr)

    def test_p2p_two_threads(self):
        d = result(run_load("-s", "p2p", "-p", str(self.broker.port), "-t", "2", "-P", "5",
                            "--warmup", "0.2", "-d", "0.5", "--label", "smoke",
                            "--server-pid", str(self.broker.proc.pid)))
        self.common(d, "p2p", 10)
        self.assertEqual(d["threads"], 2)
        self.flow_checks(d, 1)

    def test_fanout(self):
        d = result(run_load("-s", "fanout", "-p", str(self.broker.port), "-S", "6",
                            "--warmup", "0.2", "-d", "0.5", "--label", "smoke",
                            "--server-pid", str(self.broker.proc.pid)))
        self.common(d, "fanout", 7)
        self.assertEqual((d["subscribers"], d["qos"]), (6, 0))
        self.flow_checks(d, 6)

    def test_idle_keeps_connections_alive(self):
        # keepalive 2 s: Mosquitto drops a silent client after 3 s, so the
        # connections survive the 3.5 s hold only because of the PINGREQs
        d = result(run_load("-s", "idle", "-p", str(self.broker.port), "-C", "50",
                            "--keepalive", "2", "--settle", "0.2", "-d", "3.5",
                            "--label", "smoke", "--server-pid", str(self.broker.proc.pid)))
        self.common(d, "idle", 50)
        self.assertEqual(d["alive_end"], 50)
        self.assertGreaterEqual(d["pings"], 100)
        self.assertGreater(d["pongs"], 0)
        self.assertLessEqual(d["pongs"], d["pings"])
        self.assertGreater(d["server_rss_before_kb"], 0)
        self.assertGreaterEqual(d["server_rss_after_kb"], d["server_rss_before_kb"])
        self.assertIsInstance(d["bytes_per_conn"], (int, float))

    def test_losses_are_counted(self):
        # a broker that queues at most 5 messages per subscriber must drop some
        # of a 500-message QoS 1 window: the generator has to see and count it
        small = Mosquitto(self.tmp, "small", "max_queued_messages 5\nmax_inflight_messages 2\n")
        try:
            d = result(run_load("-s", "p2p", "-p", str(small.port), "-P", "1", "-w", "500",
                                "--warmup", "0.1", "-d", "0.3", "--drain", "0.5"))
        finally:
            small.stop()
        self.assertTrue(d["ok"])
        self.assertGreater(d["lost"], 0)
        self.assertFalse(d["drained"])
        self.assertEqual(d["delivered"] - d["duplicates"] + d["lost"], d["published"])

    def test_limits_fail_clearly(self):
        # one process may open at most 20,000 files on the project's machines:
        # asking for as many connections as the hard limit leaves no room for
        # the generator's own descriptors
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard != resource.RLIM_INFINITY and hard <= 1000000:
            r = run_load("-s", "idle", "-C", str(hard), expect=2)
            self.assertEqual(r.stdout, "")
            self.assertIn("open files", r.stderr)
        r = run_load("-s", "p2p", "-t", "1000", expect=2)
        self.assertIn("one thread per core", r.stderr)
        run_load("-P", "3", expect=2)
        run_load("-s", "p2p", "--payload", "8", expect=2)

    def test_unreachable_server(self):
        port = free_port()
        r = run_load("-s", "p2p", "-p", str(port), "-P", "2", "--connect-timeout", "5",
                     expect=1)
        d = result(r)
        self.assertFalse(d["ok"])
        self.assertIn("error", d)
        self.assertEqual(d["connected"], 0)
        self.assertEqual(d["errors"]["connect_failed"], 4)

    def test_run_script_quick(self):
        env = dict(os.environ, OSAP_BIN=BIN)
        r = subprocess.run([os.path.join(SRC, "bench", "mqtt", "run.sh"), "--quick",
                            "--servers", "mosquitto"], capture_output=True, text=True,
                           timeout=120, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        final = json.loads(lines[-1])
        self.assertEqual(final["bench"], "mqtt-das-vs-mosquitto")
        self.assertEqual(final["failed_runs"], 0)
        self.assertEqual(sorted(final["scenarios"]), ["fanout", "idle", "p2p"])
        self.assertGreater(final["scenarios"]["p2p"]["mosquitto"]["delivered_per_s"], 0)
        self.assertEqual(final["scenarios"]["p2p"]["mosquitto"]["lost"], 0)
        self.assertIn("| Scenario | Metric | Mosquitto |", r.stdout)
        self.assertIn("- Command: `bench/mqtt/run.sh --quick --servers mosquitto`", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""sdktest: helpers of the device SDK and simulator integration tests.

A Device runs tests/integration/sdk_device.c (one libosap-device device on its
own thread) and reads the JSON lines it prints; Sim runs osap-sim. Both talk to
a real osapd with the lbs and das services, started by osaptest.
"""

import json
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import osaptest  # noqa: E402


def tests_dir():
    """Where the C helpers of the tests are built (OSAP_TESTS)."""
    return os.environ.get("OSAP_TESTS") or os.path.join(osaptest.src_dir(), "build", "tests")


def built_services():
    """The services this osapd has built in."""
    try:
        r = subprocess.run([osaptest.program("osapd"), "--list-services"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           timeout=30)
    except OSError:
        return set()
    return set(r.stdout.split())


def require_lbs_das():
    """Skip the test case when osapd has no lbs and das services yet."""
    missing = {"lbs", "das"} - built_services()
    if missing:
        raise unittest.SkipTest("osapd is built without " + ", ".join(sorted(missing)))


class Device:
    """One sdk-device process."""

    def __init__(self, lbs_port, serial, code, state_dir=None, licence=False, keepalive=None,
                 extra=()):
        self.serial = serial
        cmd = [os.path.join(tests_dir(), "sdk-device"), "--lbs", "127.0.0.1:%d" % lbs_port,
               "--serial", serial, "--code", code]
        if state_dir:
            cmd += ["--state-dir", state_dir]
        if licence:
            cmd.append("--licence")
        if keepalive:
            cmd += ["--keepalive", str(keepalive)]
        cmd += list(extra)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.seen = []
        self.states = []
        self.acked = []
        self.requests = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            self.lines.put(obj)

    def _drain(self, timeout):
        try:
            obj = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        self.seen.append(obj)
        if "state" in obj:
            self.states.append(obj["state"])
        if "acked" in obj:
            self.acked.append(obj["acked"])
        if "request" in obj:
            self.requests.append(obj["request"])
        return obj

    def wait_for(self, pred, timeout=30.0, what="a line"):
        """Read lines until pred(line) holds; returns that line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            obj = self._drain(min(0.2, max(0.0, deadline - time.monotonic())))
            if obj is not None and pred(obj):
                return obj
            if obj is None and self.proc.poll() is not None and self.lines.empty():
                break
        raise AssertionError("%s: no %s within %.0fs (seen: %s; stderr: %s)"
                             % (self.serial, what, timeout, self.seen[-8:], self.stderr()))

    def wait_state(self, state, timeout=30.0):
        if self.states and self.states[-1] == state:
            return
        self.wait_for(lambda o: o.get("state") == state, timeout, "state %s" % state)

    def pump(self, seconds):
        """Keep reading lines for a while."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._drain(min(0.2, end - time.monotonic()))

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def event(self, domain, identifier, body):
        self.send("event %s %s %s" % (domain, identifier, json.dumps(body, separators=(",", ":"))))
        return self.wait_for(lambda o: "raised" in o or "error" in o, 10, "raised")["raised"]

    def attr(self, domain, identifier, value):
        self.send("attr %s %s %s" % (domain, identifier, json.dumps(value)))
        self.wait_for(lambda o: "reported" in o or "error" in o, 10, "reported")

    def stats(self):
        self.send("stats")
        return self.wait_for(lambda o: "stats" in o, 10, "stats")["stats"]

    def wait_acked(self, ids, timeout=60.0):
        want = set(ids)
        deadline = time.monotonic() + timeout
        while not want <= set(self.acked):
            if time.monotonic() > deadline:
                raise AssertionError("%s: events %s not acknowledged (acked %s)"
                                     % (self.serial, sorted(want - set(self.acked)), self.acked))
            self._drain(0.2)

    def stop(self, timeout=20.0):
        """Graceful stop; returns the final stats."""
        if self.proc.poll() is None:
            self.send("stop")
        final = self.wait_for(lambda o: "stats" in o, timeout, "final stats")["stats"]
        self.proc.wait(timeout=timeout)
        assert self.proc.returncode == 0, "sdk-device exited %d" % self.proc.returncode
        self._close()
        return final

    def kill(self):
        """kill -9."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._close()

    def _close(self):
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except (OSError, ValueError):
                pass

    def stderr(self):
        if self.proc.poll() is None:
            return ""
        try:
            return self.proc.stderr.read()[-2000:]
        except (OSError, ValueError):
            return ""


def events_in_store(osapd, serial):
    """Payloads (parsed) of the events the store holds for serial, in arrival order."""
    path = os.path.join(osapd.data_dir, "osap.db")
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        rows = con.execute("SELECT payload FROM events WHERE serial = ? ORDER BY id",
                           (serial,)).fetchall()
    finally:
        con.close()
    return [json.loads(r[0]) for r in rows]


def wait_events(osapd, serial, count, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        ev = events_in_store(osapd, serial)
        if len(ev) >= count or time.monotonic() > deadline:
            return ev
        time.sleep(0.2)


def sim(args, timeout=300):
    """Run osap-sim; returns (parsed final JSON line, CompletedProcess)."""
    r = subprocess.run([osaptest.program("osap-sim")] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    last = [l for l in r.stdout.splitlines() if l.startswith("{")]
    return (json.loads(last[-1]) if last else None), r


class SdkTestCase(osaptest.OsapTestCase):
    """An osapd with the lbs and das services (skipped while they are not built)."""

    services = ("lbs", "das")

    def setUp(self):
        require_lbs_das()
        super().setUp()
        self.devices = []

    def tearDown(self):
        for d in self.devices:
            d.kill()
        super().tearDown()

    def device(self, serial, code, **kw):
        d = Device(self.osapd.port("lbs"), serial, code, **kw)
        self.devices.append(d)
        return d

    def add_device(self, serial, code, model="OSAP-SDK-TEST"):
        self.osapd.admin("device", "add", "--serial", serial, "--code", code, "--model", model)

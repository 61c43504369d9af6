"""sdktest: helpers of the device SDK and simulator integration tests.

A Device runs tests/integration/sdk_device.c (one libosap-device device on its
own thread) and reads the JSON lines it prints; Sim runs osap-sim. Both talk to
a real osapd with the lbs and das services, started by osaptest.
"""

import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import osaptest  # noqa: E402


tests_dir = osaptest.tests_dir
built_services = osaptest.built_services


def require_lbs_das():
    """Skip the test case when osapd has no lbs and das services yet."""
    osaptest.require_services(("lbs", "das"))


class Device(osaptest.JsonLineDevice):
    """One sdk-device process."""

    def __init__(self, lbs_port, serial, code, state_dir=None, licence=False, keepalive=None,
                 extra=()):
        cmd = self.command_line("sdk-device", lbs_port, serial, code, state_dir=state_dir,
                                licence=licence, keepalive=keepalive)
        super().__init__(cmd + list(extra), serial)

    def stats(self):
        self.send("stats")
        return self.wait_for(lambda o: "stats" in o, 10, "stats")["stats"]

    def stop(self, timeout=20.0):
        """Graceful stop; returns the final stats."""
        if self.proc.poll() is None:
            self.send("stop")
        final = self.wait_for(lambda o: "stats" in o, timeout, "final stats")["stats"]
        self.proc.wait(timeout=timeout)
        assert self.proc.returncode == 0, "sdk-device exited %d" % self.proc.returncode
        self._close()
        return final


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

"""osapctl with a device online (tests/integration/api_device.c on
libosap-device): attr set/get, op call (sync and --async with request show),
the device's own codes, a device that never answers (exit 4), events tail (the
live stream, with --serial and --count), events query, and JSON output equal
to the API's."""

import json
import subprocess
import threading
import time

import ctltest


class TestDevice(ctltest.PlatformTestCase):

    def tail(self, *args):
        """`osapctl ARGS...` running in the background (stopped at cleanup)."""
        env = dict(__import__("os").environ, OSAP_URL=self.url, OSAP_TOKEN=self.token)
        p = subprocess.Popen([ctltest.osaptest.program("osapctl")] + list(args), env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def reap():
            if p.poll() is None:
                p.kill()
                p.wait()
            for f in (p.stdout, p.stderr):
                f.close()

        self.addCleanup(reap)
        return p

    def wait_streams(self, n, timeout=30):
        """Wait until n live event streams are open (an `events tail` gets what is
        committed from then on)."""
        deadline = time.monotonic() + timeout
        while True:
            status, stats = self.api("GET", "/api/v1/stats")
            self.assertEqual(status, 200, stats)
            if stats["api"]["streams"] >= n:
                return
            self.assertLess(time.monotonic(), deadline, "%d streams are not open: %r"
                            % (n, stats["api"]))
            time.sleep(0.05)

    def setUp(self):
        super().setUp()
        self.start_platform()
        self.add_device("CTLON0001")
        self.dev = self.device("CTLON0001")
        self.dev.wait_state("online", 30)
        self.wait_online("CTLON0001")

    def test_attr_and_op(self):
        # a set reaches the device, which answers code 0
        r = self.ctl("attr", "set", "CTLON0001", "Light", "Brightness", "70")
        self.assertRegex(r.out, r"(?m)^code:\s+0$")
        req = self.dev.wait_request(timeout=10)
        self.assertEqual((req["domain"], req["identifier"]), ("Light", "Brightness"))
        self.assertEqual(json.loads(req["json"]), 70)
        res = self.ctl_json("attr", "set", "CTLON0001", "Light", "Mode", '"night"')
        self.assertEqual(res["code"], 0)

        # reported values: table and JSON
        self.dev.attr("Light", "Brightness", 70)
        deadline = time.monotonic() + 15
        while True:
            attrs = self.ctl_json("attr", "get", "CTLON0001")
            if any(a["identifier"] == "Brightness" for a in attrs["items"]):
                break
            self.assertLess(time.monotonic(), deadline, attrs)
            time.sleep(0.2)
        status, api_doc = self.api("GET", "/api/v1/devices/CTLON0001/attributes")
        self.assertEqual(attrs, api_doc)
        one = self.ctl_json("attr", "get", "CTLON0001", "Light", "Brightness")
        self.assertEqual([a["value"] for a in one["items"]], [70])
        r = self.ctl("attr", "get", "CTLON0001", "Light", "Brightness")
        self.assertEqual(r.out.splitlines()[0].split()[:4],
                         ["RESOURCE", "DOMAIN", "IDENTIFIER", "VALUE"])
        self.assertEqual(r.out.splitlines()[1].split()[:4], ["0-global", "Light", "Brightness",
                                                             "70"])
        self.ctl("attr", "get", "CTLON0001", "Light", "Nothing", expect=1)

        # an operation: the device echoes its input
        r = self.ctl("op", "call", "CTLON0001", "Ptz", "Goto", '{"preset":3}')
        self.assertRegex(r.out, r"(?m)^code:\s+0$")
        self.assertRegex(r.out, r'(?m)^output:\s+\{"echo":\{"preset":3\}\}$')
        out = self.ctl_json("op", "call", "CTLON0001", "Ptz", "Goto", "[1,2]",
                            "--device-timeout", "5")
        self.assertEqual(out["output"], {"echo": [1, 2]})
        self.assertEqual(out["code"], 0)
        self.assertIsInstance(out["seq"], int)

        # asynchronously, then request show --wait
        acc = self.ctl_json("op", "call", "CTLON0001", "Ptz", "Stop", "--async")
        self.assertEqual((acc["status"], acc["kind"]), ("pending", "operate"))
        done = self.ctl_json("request", "show", str(acc["request_id"]), "--wait")
        self.assertEqual(done["status"], "done")
        self.assertEqual(done["code"], 0)
        self.assertEqual(done["output"], {"echo": {}})
        r = self.ctl("request", "show", str(acc["request_id"]))
        self.assertRegex(r.out, r"(?m)^status:\s+done$")
        r = self.ctl("request", "show", "999999", expect=1)
        self.assertIn("request_not_found", r.err)

    def test_device_codes_and_timeouts(self):
        # the device answers code 5: the request itself succeeded (exit 0)
        self.dev.reply("code:5")
        r = self.ctl("op", "call", "CTLON0001", "Ptz", "Goto", '{"preset":1}')
        self.assertRegex(r.out, r"(?m)^code:\s+5$")
        self.assertEqual(self.ctl_json("attr", "set", "CTLON0001", "Light", "Level", "1")["code"],
                         5)
        # the device never answers: device_timeout, exit 4
        self.dev.reply("hang")
        r = self.ctl("op", "call", "CTLON0001", "Ptz", "Goto", "--device-timeout", "1", expect=4)
        self.assertIn("device_timeout", r.err)
        r = self.ctl("attr", "set", "CTLON0001", "Light", "Level", "2", "--device-timeout", "1",
                     expect=4)
        self.assertIn("device_timeout", r.err)
        self.assertIn("desired value stays stored", r.err)
        # asynchronously: the request ends as a timeout
        acc = self.ctl_json("op", "call", "CTLON0001", "Ptz", "Goto", "--async",
                            "--device-timeout", "1")
        r = self.ctl("request", "show", str(acc["request_id"]), "--wait", expect=4)
        self.assertRegex(r.out, r"(?m)^status:\s+timeout$")
        self.assertIn("did not answer", r.err)
        # --timeout shorter than the device's wait is stretched to cover it
        r = self.ctl("--timeout", "1", "op", "call", "CTLON0001", "Ptz", "Goto",
                     "--device-timeout", "2", expect=4)
        self.assertIn("device_timeout", r.err)

    def test_events_tail_and_query(self):
        tail = self.tail("--json", "events", "tail", "--serial", "CTLON0001", "--count", "3")
        table_tail = self.tail("events", "tail", "--types", "event")
        table_out = []
        reader = threading.Thread(target=lambda: table_out.extend(table_tail.stdout),
                                  daemon=True)
        reader.start()
        try:
            self.wait_streams(2)
            ids = [self.dev.event("Alarm", "Motion", {"zone": i}) for i in range(3)]
            self.dev.wait_acked(ids, 30)
            out, err = tail.communicate(timeout=30)
            self.assertEqual(tail.returncode, 0, err)
            lines = [json.loads(l) for l in out.decode().splitlines()]
            self.assertEqual([l["type"] for l in lines], ["event"] * 3)
            self.assertEqual([l["data"]["payload"]["zone"] for l in lines], [0, 1, 2])
            self.assertEqual([l["id"] for l in lines], [l["data"]["id"] for l in lines])

            # the stored events: query, filters, JSON equal to the API's
            q = self.ctl_json("events", "query", "--serial", "CTLON0001")
            self.assertEqual([e["payload"]["zone"] for e in q["items"]], [2, 1, 0])
            status, api_doc = self.api("GET", "/api/v1/events?serial=CTLON0001")
            self.assertEqual(q, api_doc)
            r = self.ctl("events", "query", "--domain", "Alarm", "--identifier", "Motion")
            self.assertEqual(len(r.out.splitlines()), 4)
            self.assertIn("Alarm/Motion", r.out)
            page = self.ctl_json("events", "query", "--limit", "2")
            self.assertEqual(len(page["items"]), 2)
            every = self.ctl_json("events", "query", "--limit", "2", "--all")
            self.assertEqual(len(every["items"]), 3)
            self.assertEqual(self.ctl_json("events", "query", "--domain", "Nope")["items"], [])

            # resume after the first event: the two after it are replayed
            r = self.ctl("--json", "events", "tail", "--serial", "CTLON0001",
                         "--last-event-id", str(lines[0]["id"]), "--count", "2",
                         "--types", "event")
            replay = [json.loads(l)["data"]["payload"]["zone"] for l in r.out.splitlines()]
            self.assertEqual(replay, [1, 2])
        finally:
            if tail.poll() is None:
                tail.kill()
                tail.wait()
        # the table tail prints the events (a line each, flushed); SIGINT ends it
        # with exit 0
        deadline = time.monotonic() + 30
        while b"".join(table_out).count(b"Alarm/Motion") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        table_tail.send_signal(2)
        try:
            table_tail.wait(timeout=15)
        finally:
            if table_tail.poll() is None:
                table_tail.kill()
                table_tail.wait()
        reader.join(15)
        err = table_tail.stderr.read()
        self.assertEqual(table_tail.returncode, 0, err)
        text = b"".join(table_out).decode()
        self.assertEqual(text.count("Alarm/Motion"), 3, text)
        self.assertIn("CTLON0001", text)

    def test_status_in_tail(self):
        tail = self.tail("events", "tail", "--types", "status", "--count", "1")
        self.wait_streams(1)
        self.dev.stop()
        out, err = tail.communicate(timeout=30)
        self.assertEqual(tail.returncode, 0, err)
        self.assertRegex(out.decode(), r"offline\s+CTLON0001")
        # offline now: exit 4
        self.wait_online("CTLON0001", online=False)
        self.ctl("op", "call", "CTLON0001", "Ptz", "Goto", expect=4)


if __name__ == "__main__":
    ctltest.osaptest.main()

"""osap-sim against a live osapd: identities are deterministic and round-trip
through `osapd device import`; 200 simulated devices come online and stay there;
after osapd restarts under that load they come back by themselves."""

import json
import os
import subprocess
import threading
import time

import sdktest
import osaptest


class TestSimIdentities(osaptest.OsapTestCase):

    def identities(self, *args):
        r = subprocess.run([osaptest.program("osap-sim"), "identities"] + [str(a) for a in args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_deterministic_and_importable(self):
        a = self.identities("--count", 50, "--seed", 7)
        self.assertEqual(a, self.identities("--count", 50, "--seed", 7))
        self.assertNotEqual(a, self.identities("--count", 50, "--seed", 8))
        lines = a.splitlines()
        self.assertEqual(len(lines), 50)
        self.assertEqual(len({l.split(",")[0] for l in lines}), 50)
        lic = self.identities("--count", 3, "--seed", 7, "--licence").splitlines()
        for l in lic:
            serial, code, model = l.split(",")
            self.assertEqual(serial.split(":")[0], model)
            self.assertEqual(len(code), 22)

        path = os.path.join(self.tmp, "fleet.csv")
        with open(path, "w") as f:
            f.write(a)
            f.write("\n".join(lic) + "\n")
        r = self.osapd.admin("device", "import", path)
        self.assertIn("imported 53 devices", r.stdout)
        listed = json.loads(self.osapd.admin("device", "list", "--json", "--secrets").stdout)
        rows = listed if isinstance(listed, list) else listed.get("devices", [])
        by_serial = {d["serial"]: d for d in rows}
        for l in lines + lic:
            serial, code, model = l.split(",")
            self.assertIn(serial, by_serial)
            self.assertEqual(by_serial[serial].get("model"), model)


class TestSimFleet(sdktest.SdkTestCase):

    COUNT = 200

    def provision(self, count, seed):
        csv = subprocess.run([osaptest.program("osap-sim"), "identities", "--count", str(count),
                              "--seed", str(seed)], stdout=subprocess.PIPE, text=True,
                             check=True).stdout
        self.osapd.admin("device", "import", "-", input=csv)

    def test_fleet_online_and_back_after_restart(self):
        self.provision(self.COUNT, 11)
        self.osapd.start()
        result = {}

        def run():
            result["json"], result["proc"] = sdktest.sim([
                "--lbs", "127.0.0.1:%d" % self.osapd.port("lbs"), "--count", self.COUNT,
                "--seed", 11, "--duration", 45, "--ramp", 100, "--threads", 2,
                "--event-rate", 6, "--report-interval", 10,
                "--source-base", "127.0.0.2", "--source-count", 4,
                "--state-dir", os.path.join(self.tmp, "sim")], timeout=240)

        t = threading.Thread(target=run)
        t.start()
        # Once the whole fleet is online (however long the machine takes to get it
        # there), restart under that load: every session breaks at once.
        deadline = time.monotonic() + 30
        while True:
            listed = json.loads(self.osapd.admin("device", "list", "--online", "--json").stdout)
            online = listed if isinstance(listed, list) else listed.get("devices", [])
            if len(online) >= self.COUNT:
                break
            self.assertLess(time.monotonic(), deadline,
                            "%d of %d devices online" % (len(online), self.COUNT))
            time.sleep(0.5)
        self.osapd.restart()
        t.join(timeout=300)
        res, proc = result.get("json"), result.get("proc")
        self.assertIsNotNone(res, proc.stderr if proc else "osap-sim did not finish")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(res["devices"], self.COUNT)
        self.assertEqual(res["online"], self.COUNT)  # all back by themselves
        self.assertIsNotNone(res["time_to_all_online_s"])
        self.assertGreaterEqual(res["connection_losses"], self.COUNT)  # the restart
        self.assertGreater(res["events_acked"], 0)
        self.assertLessEqual(res["events_acked"], res["events_sent"])

    def test_storm(self):
        self.provision(100, 12)
        self.osapd.start()
        res, proc = sdktest.sim([
            "--lbs", "127.0.0.1:%d" % self.osapd.port("lbs"), "--count", 100, "--seed", 12,
            "--duration", 20, "--storm", "--threads", 2,
            # the LBS admits 64 connections at once per source address
            "--source-base", "127.0.0.2", "--source-count", 8], timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(res["online"], 100)
        self.assertTrue(res["storm"])
        self.assertIsNotNone(res["time_to_all_online_s"])


if __name__ == "__main__":
    osaptest.main()

"""Platform API, durability of events: devices publish QoS 1 events as fast as
they can (with at most WINDOW unacknowledged) while osapd is killed (kill -9).
Every event a device saw acknowledged (PUBACK) is in the store after the
restart, as the API shows it;
and once the devices have re-sent what was not acknowledged, every event is
stored exactly once."""

import os
import threading
import time

import apitest

DEVICES = 3
# Events a device has raised but not yet seen acknowledged, at most: well below
# what its queue holds (1000 events by default; when full it drops the oldest,
# in flight or not), however slowly the server commits.
WINDOW = 100


class TestDurability(apitest.ApiTestCase):

    def stored(self, serial):
        """The payload numbers of the device's stored events, through the API."""
        out, cursor = [], None
        while True:
            r = self.api.get("/api/v1/devices/%s/events?limit=1000%s"
                             % (serial, "&cursor=" + cursor if cursor else ""))
            self.assertEqual(r.status, 200, r)
            out += [e["payload"]["n"] for e in r.json["items"]]
            cursor = r.json["next_cursor"]
            if not cursor:
                return out

    def test_kill_while_devices_send(self):
        devs, numbers = [], []
        for i in range(DEVICES):
            serial = "DUR%03d" % i
            d = self.online_device(serial, state_dir=os.path.join(self.tmp, serial))
            devs.append(d)
            numbers.append({})  # raised id -> n
        stop = threading.Event()

        def publish(d, ids):
            n = 0
            while not stop.is_set():
                if n - len(d.acked) >= WINDOW:
                    d.pump(0.01)  # reads the acknowledgements
                    continue
                try:
                    ids[d.event("Alarm", "Motion", {"n": n})] = n
                except (AssertionError, OSError, ValueError):
                    return
                n += 1

        threads = [threading.Thread(target=publish, args=(d, ids), daemon=True)
                   for d, ids in zip(devs, numbers)]
        for t in threads:
            t.start()
        # Let acknowledgements flow, then crash the server in the middle of it.
        deadline = time.monotonic() + 20
        while min(len(d.acked) for d in devs) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.osapd.kill()
        stop.set()
        for t in threads:
            t.join(15)
        for d in devs:
            d.pump(0.5)  # acknowledgements already on their way to the test
        acked = [{ids[a] for a in d.acked if a in ids} for d, ids in zip(devs, numbers)]
        self.assertTrue(all(len(a) >= 20 for a in acked), [len(a) for a in acked])

        self.start_osapd()
        for d, a in zip(devs, acked):
            stored = set(self.stored(d.serial))
            missing = a - stored
            self.assertFalse(missing, "%s: acknowledged but not stored: %s"
                             % (d.serial, sorted(missing)[:20]))

        # The devices reconnect and deliver the rest: each event once.
        for d, ids in zip(devs, numbers):
            d.wait_acked(list(ids), timeout=120)
            got = self.stored(d.serial)
            self.assertEqual(len(got), len(set(got)), "%s: duplicates" % d.serial)
            self.assertEqual(set(got), set(ids.values()))


if __name__ == "__main__":
    apitest.main()

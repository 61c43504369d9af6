"""The device SDK against a live osapd (lbs, das): first start (path A),
restart (path C), master key lost (path B), a wrong verification code, and a
blocked device (CONNACK 10: the device stops)."""

import os

import sdktest


class TestLifecycle(sdktest.SdkTestCase):

    def test_paths_a_c_b(self):
        self.add_device("SDKLIFE001", "ABCDEF")
        self.osapd.start()
        state = os.path.join(self.tmp, "dev")

        d = self.device("SDKLIFE001", "ABCDEF", state_dir=state)
        d.wait_state("online", 30)
        st = d.stats()
        self.assertEqual(st["last_path"], "A")
        self.assertEqual(st["online_count"], 1)
        with open(os.path.join(state, "devid"), "rb") as f:
            devid = f.read()
        self.assertEqual(len(devid), 32)
        self.assertEqual(os.path.getsize(os.path.join(state, "masterkey")), 16)
        final = d.stop()
        self.assertEqual(final["state"], "stopped")

        # restart with devid and master key: path C
        d = self.device("SDKLIFE001", "ABCDEF", state_dir=state)
        d.wait_state("online", 30)
        self.assertEqual(d.stats()["last_path"], "C")
        d.stop()

        # the master key is lost: path B, the devid is kept
        os.remove(os.path.join(state, "masterkey"))
        d = self.device("SDKLIFE001", "ABCDEF", state_dir=state)
        d.wait_state("online", 30)
        self.assertEqual(d.stats()["last_path"], "B")
        d.stop()
        with open(os.path.join(state, "devid"), "rb") as f:
            self.assertEqual(f.read(), devid)
        self.assertEqual(os.path.getsize(os.path.join(state, "masterkey")), 16)

    def test_wrong_code(self):
        self.add_device("SDKLIFE002", "ABCDEF")
        self.osapd.start()
        state = os.path.join(self.tmp, "dev")
        d = self.device("SDKLIFE002", "ZZZZZZ", state_dir=state)
        d.pump(5)
        st = d.stats()
        self.assertNotIn("online", d.states)
        self.assertEqual(st["state"], "lbs")
        self.assertEqual(st["last_error"], "ELBS_RESULT_SIGN")
        self.assertGreaterEqual(st["lbs_failures"], 2)  # upper case, then lower case
        self.assertFalse(os.path.exists(os.path.join(state, "devid")))
        d.stop()

    def test_blocked_device_stops(self):
        self.add_device("SDKLIFE003", "ABCDEF")
        self.osapd.start()
        d = self.device("SDKLIFE003", "ABCDEF", state_dir=os.path.join(self.tmp, "dev"))
        d.wait_state("online", 30)
        self.osapd.admin("device", "block", "SDKLIFE003")
        # the DAS goes away and comes back; the device's next CONNECT is refused
        self.osapd.restart()
        d.wait_state("blocked", 60)
        st = d.stats()
        self.assertEqual(st["last_error"], "ECONNACK_BLOCKED")
        attempts = st["das_attempts"] + st["lbs_attempts"]
        d.pump(5)
        st = d.stats()
        self.assertEqual(st["state"], "blocked")
        self.assertEqual(st["das_attempts"] + st["lbs_attempts"], attempts)  # it stopped
        d.stop()


if __name__ == "__main__":
    sdktest.osaptest.main()

"""Events through the offline queue against a live osapd: raised while the
server is down, every one is stored exactly once and in order once it is back;
raised while offline and then the device process is killed (kill -9), they are
still delivered after a restart."""

import os

import sdktest


def seqs(events):
    return [e.get("n") for e in events]


class TestEvents(sdktest.SdkTestCase):

    def test_server_down_then_back(self):
        self.add_device("SDKEVT001", "ABCDEF")
        self.osapd.start()
        d = self.device("SDKEVT001", "ABCDEF", state_dir=os.path.join(self.tmp, "dev"))
        d.wait_state("online", 30)
        first = d.event("Alarm", "Motion", {"n": 0})
        d.wait_acked([first])

        self.osapd.stop()
        ids = [d.event("Alarm", "Motion", {"n": i}) for i in range(1, 21)]
        d.pump(2)
        self.assertEqual(d.stats()["events_queued"], 20)
        self.osapd.start()
        d.wait_acked(ids, timeout=120)
        self.assertEqual(d.stats()["events_queued"], 0)

        stored = sdktest.wait_events(self.osapd, "SDKEVT001", 21)
        self.assertEqual(seqs(stored), list(range(0, 21)))  # once each, in order
        uuids = [e["basic"]["UUID"] for e in stored]
        self.assertEqual(len(set(uuids)), 21)
        d.stop()

    def test_kill_while_offline(self):
        self.add_device("SDKEVT002", "ABCDEF")
        self.osapd.start()
        state = os.path.join(self.tmp, "dev")
        d = self.device("SDKEVT002", "ABCDEF", state_dir=state)
        d.wait_state("online", 30)
        self.osapd.stop()
        for i in range(10):
            d.event("Door", "Open", {"n": i})
        d.kill()  # kill -9 of the device while it is offline

        self.osapd.start()
        d = self.device("SDKEVT002", "ABCDEF", state_dir=state)
        d.wait_state("online", 60)
        stored = sdktest.wait_events(self.osapd, "SDKEVT002", 10, timeout=60)
        self.assertEqual(seqs(stored), list(range(10)))
        d.pump(1)
        self.assertEqual(d.stats()["events_queued"], 0)
        d.stop()


if __name__ == "__main__":
    sdktest.osaptest.main()

"""DAS wills and keepalive with real clients: the will is published when a client
vanishes (socket closed, keepalive expired at 1.5 x the keepalive, protocol
error), honours its retain flag, and is discarded after DISCONNECT; keepalive 0
means no timeout."""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import osaptest  # noqa: E402
from das_clients import Paho, raw, socket_closed_soon  # noqa: E402


class WillTest(osaptest.OsapTestCase):
    services = ("das",)
    settings = {"osapd": {"worker_threads": 2}, "das": {"allow_anonymous": True}}

    def setUp(self):
        super().setUp()
        self.osapd.start()
        self.port = self.osapd.port("das")
        self.watcher = Paho(self.port, "watcher")
        self.watcher.subscribe(("will/#", 2))

    def tearDown(self):
        self.watcher.stop()
        super().tearDown()

    def test_will_on_socket_close(self):
        c = raw.connected(self.port, "dies", will_topic="will/dies", will_payload=b"gone",
                          will_qos=1)
        self.watcher.nothing(0.3)
        c.close()  # no DISCONNECT
        m = self.watcher.get()
        self.assertEqual((m.topic, m.payload, m.qos, m.retain), ("will/dies", b"gone", 1, 0))

    def test_no_will_after_disconnect(self):
        c = raw.connected(self.port, "polite", will_topic="will/polite", will_payload=b"x")
        c.send(raw.DISCONNECT_BYTES)
        self.assertTrue(c.closed())
        c.close()
        self.watcher.nothing(1.0)

    def test_no_will_after_disconnect_paho(self):
        p = Paho(self.port, "polite-paho", will=("will/paho", b"x", 1, False))
        p.stop()
        self.watcher.nothing(1.0)

    def test_will_retained(self):
        c = raw.connected(self.port, "dies-retained", will_topic="will/retained",
                          will_payload=b"last words", will_qos=2, will_retain=True)
        c.close()
        self.assertEqual(self.watcher.get().payload, b"last words")
        later = Paho(self.port, "later")
        try:
            later.subscribe(("will/retained", 2))
            m = later.get()
            self.assertEqual((m.payload, m.retain, m.qos), (b"last words", 1, 2))
        finally:
            later.stop()

    def test_will_on_protocol_error(self):
        c = raw.connected(self.port, "rude", will_topic="will/rude", will_payload=b"bad")
        c.send(b"\xf0\x00")  # reserved packet type
        self.assertTrue(c.closed())
        c.close()
        self.assertEqual(self.watcher.get().payload, b"bad")

    def test_will_on_keepalive_expiry(self):
        c = raw.connected(self.port, "sleepy", keepalive=1, will_topic="will/sleepy",
                          will_payload=b"timed out")
        t0 = time.monotonic()
        m = self.watcher.get(5)
        elapsed = time.monotonic() - t0
        self.assertEqual(m.payload, b"timed out")
        self.assertGreater(elapsed, 1.2)   # 1.5 x 1 s
        self.assertLess(elapsed, 3.0)
        self.assertTrue(c.closed())
        c.close()

    def test_keepalive_one_and_a_half(self):
        # keepalive 2 s: silent, the client is still connected at 2.4 s (a server
        # that allowed 1 x keepalive would have closed it by 2.2 s: 100 ms ticks)
        # and closed before 4 s (at 3 s). The ping goes early in the 2.2-3 s gap,
        # as a loaded machine can only delay it.
        c = raw.connected(self.port, "ka2", keepalive=2)
        t0 = time.monotonic()
        time.sleep(2.4)
        c.ping()  # answered: still connected; this also restarts the 3 s
        t1 = time.monotonic()
        self.assertTrue(socket_closed_soon(c.sock, 5))
        elapsed = time.monotonic() - t1
        self.assertGreater(elapsed, 2.5)
        self.assertLess(elapsed, 4.0)
        self.assertGreater(t1 - t0, 2.3)
        c.close()

    def test_pings_keep_it_alive(self):
        c = raw.connected(self.port, "pinger", keepalive=1, will_topic="will/pinger",
                          will_payload=b"x")
        for _ in range(8):
            time.sleep(0.4)
            c.ping()
        c.send(raw.DISCONNECT_BYTES)
        c.close()
        self.watcher.nothing(0.5)

    def test_keepalive_zero_means_none(self):
        c = raw.connected(self.port, "forever", keepalive=0)
        time.sleep(2.5)
        c.ping()
        c.close()


if __name__ == "__main__":
    osaptest.main()

"""DAS limits and node registration: oversize packets close only their connection,
max_connections, slow consumers (disconnected, or their QoS 0 traffic dropped
while the connection stays up), and this node's row in the das_nodes table."""

import os
import socket
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import osaptest  # noqa: E402
from das_clients import Paho, raw, wait_until  # noqa: E402


def slow_subscriber(port, client_id, topic):
    """A raw subscriber with a tiny receive buffer that does not read."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    c = raw.Client.__new__(raw.Client)
    c.sock = s
    c.buf = b""
    c.connect(client_id)
    assert c.subscribe(1, (topic, 0)) == [0]
    return c


def flood(port, topic, count, size, client_id="flooder"):
    """Publish count QoS 0 messages of size bytes, then a PINGREQ round trip."""
    c = raw.connected(port, client_id)
    chunk = b"".join(raw.publish(topic, b"%08d" % i + b"x" * (size - 8)) for i in range(100))
    for _ in range(count // 100):
        c.send(chunk)
    c.ping()
    return c


class LimitsTest(osaptest.OsapTestCase):
    services = ("das",)
    settings = {"osapd": {"worker_threads": 2},
                "das": {"allow_anonymous": True, "max_packet_size": "2KiB",
                        "max_connections": 6, "max_output_bytes": "64KiB",
                        "heartbeat": "200ms", "node_id": "das-test-node", "max_retained": 2,
                        "advertise": "192.0.2.7", "udp_port": 8777}}

    def setUp(self):
        super().setUp()
        self.osapd.start()
        self.port = self.osapd.port("das")

    def test_max_packet_size(self):
        sub = Paho(self.port, "mp-sub")
        sub.subscribe(("mp/#", 1))
        big = Paho(self.port, "mp-big")
        big.c.publish("mp/x", b"y" * 3000, qos=1)
        self.assertNotEqual(big.disconnected(), 0)  # closed by the server
        big.c.loop_stop()
        ok = Paho(self.port, "mp-ok")
        ok.publish("mp/x", b"z" * 1900, qos=1)
        self.assertEqual(sub.get().payload, b"z" * 1900)
        sub.nothing(0.3)  # the oversize message went nowhere
        ok.stop()
        sub.stop()

    def test_max_retained(self):
        pub = raw.connected(self.port, "ret-pub")
        for i, t in enumerate(("r/1", "r/2", "r/3")):
            pub.send(raw.publish(t, t.encode(), qos=1, pid=i + 1, retain=True))
            pub.expect(raw.PUBACK)
        # r/3 was beyond max_retained: delivered as usual but not kept; r/1 may
        # still be replaced, and cleared, which makes room again
        pub.send(raw.publish("r/1", b"r/1 again", qos=1, pid=4, retain=True))
        pub.expect(raw.PUBACK)
        sub = raw.connected(self.port, "ret-sub")
        sub.subscribe(1, ("r/#", 0))
        got = sorted(sub.expect(raw.PUBLISH).payload for _ in range(2))
        self.assertEqual(got, [b"r/1 again", b"r/2"])
        sub.nothing(0.3)
        pub.send(raw.publish("r/2", b"", qos=1, pid=5, retain=True))
        pub.expect(raw.PUBACK)
        self.assertEqual(sub.expect(raw.PUBLISH).payload, b"")
        pub.send(raw.publish("r/3", b"r/3 now", qos=1, pid=6, retain=True))
        pub.expect(raw.PUBACK)
        sub.expect(raw.PUBLISH)
        late = raw.connected(self.port, "ret-late")
        late.subscribe(1, ("r/#", 0))
        got = sorted(late.expect(raw.PUBLISH).payload for _ in range(2))
        self.assertEqual(got, [b"r/1 again", b"r/3 now"])
        for c in (pub, sub, late):
            c.close()

    def test_max_connections(self):
        conns = [raw.connected(self.port, "mc-%d" % i) for i in range(6)]
        extra = raw.Client(self.port)
        self.assertTrue(extra.closed(), "a 7th connection was served")
        extra.close()
        conns.pop().close()
        # room again, once the server has seen the close
        again = []

        def reconnect():
            c = raw.Client(self.port)
            try:
                c.connect("mc-again")
            except (raw.Closed, OSError):
                c.close()
                return False
            again.append(c)
            return True

        self.assertTrue(wait_until(reconnect, timeout=5), "no room after a close")
        again = again[0]
        again.ping()
        again.close()
        for c in conns:
            c.close()

    def test_slow_consumer_qos0_dropped(self):
        slow = slow_subscriber(self.port, "slow", "flood")
        fast = raw.connected(self.port, "fast")
        fast.subscribe(1, ("flood", 0))
        pub = raw.connected(self.port, "flooder")
        # 60 rounds of 50 messages of 1 KiB; the fast subscriber reads each round
        # before the next, the slow one reads nothing.
        n = 0
        for _ in range(60):
            pub.send(b"".join(raw.publish("flood", b"%08d" % (n + i) + b"x" * 1016)
                              for i in range(50)))
            for i in range(50):
                p = fast.expect(raw.PUBLISH)
                self.assertEqual(int(p.payload[:8]), n + i)
            n += 50
        # the slow one is still connected and gets what was not dropped, in order
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        seqs = []
        while True:
            try:
                p = slow.recv(1.0)
            except socket.timeout:
                break
            seqs.append(int(p.payload[:8]))
        self.assertGreater(len(seqs), 0)
        self.assertLess(len(seqs), n, "nothing was dropped")
        self.assertEqual(seqs, sorted(seqs))
        slow.ping()
        for c in (slow, fast, pub):
            c.close()

    def test_slow_consumer_disconnected(self):
        self.osapd.stop()
        self.osapd.settings["das"]["slow_consumer"] = "disconnect"
        self.osapd.write_config()
        self.osapd.start()
        slow = slow_subscriber(self.port, "slow-d", "flood")
        f = flood(self.port, "flood", 3000, 1024)
        self.assertTrue(slow.closed(10), "the slow consumer was not disconnected")
        f.ping()  # the publisher is unaffected
        f.close()
        slow.close()

    def node_rows(self):
        db = sqlite3.connect(os.path.join(self.osapd.data_dir, "osap.db"), timeout=5)
        try:
            return db.execute("SELECT id, address, port, udp_port, domain, connections "
                              "FROM das_nodes").fetchall()
        finally:
            db.close()

    def test_das_nodes_heartbeat(self):
        rows = self.node_rows()
        self.assertEqual(rows, [("das-test-node", "192.0.2.7", self.port, 8777, "192.0.2.7", 0)])
        conns = [raw.connected(self.port, "hb-%d" % i) for i in range(3)]
        self.assertTrue(wait_until(lambda: self.node_rows()[0][5] == 3, timeout=30),
                        self.node_rows())
        for c in conns:
            c.close()
        self.assertTrue(wait_until(lambda: self.node_rows()[0][5] == 0, timeout=30))
        self.osapd.stop()
        self.assertEqual(self.node_rows(), [])


if __name__ == "__main__":
    osaptest.main()

"""Bounded memory in the DAS: what each limit does at its edge, with real
sockets against a real osapd.

* retained messages bounded in bytes (max_retained_bytes) as well as topics;
* subscriptions per session (max_subscriptions: SUBACK 0x80 beyond it);
* offline persistent sessions bounded in number (max_sessions, oldest first);
* max_connections derived from the open-file limit when it is 0;
* memory of connections that have not completed their CONNECT
  (connect_max_total);
* password checks on threads of their own, behind a bounded queue
  (auth_queue: CONNACK 3 beyond it), while the heartbeat, which uses libuv's
  thread pool, keeps its pace;
* back-pressure instead of loss: a slow QoS 1 subscriber holds back the
  PUBACKs of its publisher rather than dropping acknowledged messages, across
  workers; and a subscriber that never acknowledges lets its publishers go
  after max_hold_time.
"""

import os
import resource
import socket
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import osaptest  # noqa: E402
from das_clients import raw, wait_until  # noqa: E402


def home_worker(client_id, workers):
    """The DAS worker a client id belongs to (das_home_worker(): FNV-1a, seed 0x5eed)."""
    h = 2166136261 ^ 0x5EED
    for b in client_id.encode():
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return h % workers


def ids_on_two_workers(prefix):
    """Two client ids starting with prefix whose homes are worker 0 and worker 1."""
    found = {}
    i = 0
    while len(found) < 2:
        cid = "%s-%d" % (prefix, i)
        found.setdefault(home_worker(cid, 2), cid)
        i += 1
    return found[0], found[1]


def partial_connect(port, declared, sent=b"\x00\x04MQTT"):
    """A connection that sends the start of a CONNECT announcing declared bytes."""
    c = raw.Client(port)
    c.send(b"\x10" + raw.remlen(declared) + sent)
    return c


def still_open(c, wait=0.3):
    """True when the server keeps the connection open for wait seconds."""
    return not c.closed(wait)


class RetainedAndSubscriptions(osaptest.OsapTestCase):
    services = ("das",)
    settings = {"osapd": {"worker_threads": 2},
                "das": {"allow_anonymous": True, "max_retained_bytes": 1024,
                        "max_subscriptions": 3}}

    def setUp(self):
        super().setUp()
        self.osapd.start()
        self.port = self.osapd.port("das")

    def retained(self, flt, expect):
        c = raw.connected(self.port, "probe")
        c.subscribe(1, (flt, 0))
        got = sorted((p.topic, len(p.payload)) for p in
                     (c.expect(raw.PUBLISH) for _ in range(len(expect))))
        c.nothing(0.3)
        c.close()
        return got

    def test_max_retained_bytes(self):
        pub = raw.connected(self.port, "ret-pub")
        sub = raw.connected(self.port, "ret-sub")
        sub.subscribe(1, ("r/#", 0))
        pid = 0
        for topic, size in (("r/a", 400), ("r/b", 400), ("r/c", 400)):
            pid += 1
            pub.send(raw.publish(topic, b"x" * size, qos=1, pid=pid, retain=True))
            pub.expect(raw.PUBACK)
            # delivered to the subscriber whether kept or not
            self.assertEqual(sub.expect(raw.PUBLISH).topic, topic)
        # 403 + 403 bytes kept; r/c (403 more) would exceed 1024
        self.assertEqual(self.retained("r/#", [1, 2]), [("r/a", 400), ("r/b", 400)])
        # A replacement that does not fit clears the older message of its topic.
        pub.send(raw.publish("r/a", b"y" * 700, qos=1, pid=10, retain=True))
        pub.expect(raw.PUBACK)
        self.assertEqual(self.retained("r/#", [1]), [("r/b", 400)])
        # Room again: a smaller one is kept.
        pub.send(raw.publish("r/c", b"z" * 500, qos=1, pid=11, retain=True))
        pub.expect(raw.PUBACK)
        self.assertEqual(self.retained("r/#", [1, 2]), [("r/b", 400), ("r/c", 500)])
        # Each refusal was not logged on its own: once, until a client clears one.
        log = self.osapd.log_text()
        self.assertEqual(log.count("not kept: max_retained_bytes"), 1, log)
        pub.send(raw.publish("r/b", b"", qos=1, pid=12, retain=True))
        pub.expect(raw.PUBACK)
        pub.send(raw.publish("r/d", b"w" * 900, qos=1, pid=13, retain=True))
        pub.expect(raw.PUBACK)
        pub.ping()
        self.assertTrue(wait_until(
            lambda: self.osapd.log_text().count("not kept: max_retained_bytes") == 2))
        for c in (pub, sub):
            c.close()

    def test_max_subscriptions(self):
        c = raw.connected(self.port, "many-subs")
        self.assertEqual(c.subscribe(1, ("s/1", 1), ("s/2", 1), ("s/3", 1), ("s/4", 1)),
                         [1, 1, 1, 0x80])
        # replacing an existing subscription is not a new one
        self.assertEqual(c.subscribe(2, ("s/2", 0), ("s/5", 0)), [0, 0x80])
        c.send(raw.unsubscribe(3, "s/1"))
        c.expect(raw.UNSUBACK)
        self.assertEqual(c.subscribe(4, ("s/5", 0)), [0])
        # the refused filter gets nothing, the others work
        pub = raw.connected(self.port, "subs-pub")
        for t in ("s/4", "s/5"):
            pub.send(raw.publish(t, t.encode()))
        pub.ping()
        self.assertEqual(c.expect(raw.PUBLISH).topic, "s/5")
        c.nothing(0.3)
        c.close()
        pub.close()


class OfflineSessions(osaptest.OsapTestCase):
    services = ("das",)
    settings = {"osapd": {"worker_threads": 1},
                "das": {"allow_anonymous": True, "max_sessions": 2}}

    def test_max_sessions_discards_the_oldest(self):
        self.osapd.start()
        port = self.osapd.port("das")
        for cid in ("sess-a", "sess-b", "sess-c"):
            c = raw.connected(port, cid, clean=False)
            c.subscribe(1, ("ms/" + cid, 1))
            c.send(raw.DISCONNECT_BYTES)
            self.assertTrue(c.closed())
            c.close()
        self.assertTrue(wait_until(lambda: "session sess-a discarded: max_sessions"
                                   in self.osapd.log_text()))
        # b and c are kept (checked in an order that never exceeds the limit)
        for cid in ("sess-b", "sess-c"):
            c = raw.Client(port)
            self.assertTrue(c.connect(cid, clean=False).session_present, cid)
            c.send(raw.DISCONNECT_BYTES)
            self.assertTrue(c.closed())
            c.close()
        c = raw.Client(port)
        self.assertFalse(c.connect("sess-a", clean=False).session_present)
        c.close()

    def test_session_expiry_defaults_to_a_day(self):
        r = self.osapd.admin("config", "check")
        settings = dict(line.split(" = ", 1) for line in r.stdout.splitlines()
                        if " = " in line and not line.startswith("#"))
        self.assertEqual(settings.get("session_expiry"), "1d")


class DerivedMaxConnections(osaptest.OsapTestCase):
    """max_connections = 0: the open-file limit (raised from soft to hard) less 256,
    less 16 per worker thread: 400 - 256 - 16 = 128 here."""
    services = ("das",)
    settings = {"osapd": {"worker_threads": 1}, "das": {"allow_anonymous": True}}

    def start_with_nofile(self, soft, hard):
        d = self.osapd
        d._log_file = open(d.log_path, "ab")
        d.proc = subprocess.Popen(
            [osaptest.program("osapd"), "-c", d.config_path], stdin=subprocess.DEVNULL,
            stdout=d._log_file, stderr=subprocess.STDOUT, cwd=d.workdir,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))
        osaptest.wait_port(d.port("das"), proc=d.proc)
        d.wait_log("ready (pid %d)" % d.proc.pid)

    def test_derived_from_the_open_file_limit(self):
        self.start_with_nofile(200, 400)
        log = self.osapd.log_text()
        self.assertIn("open-file limit raised from 200 to 400", log)
        self.assertIn("max_connections 128", log)
        port = self.osapd.port("das")
        conns = [raw.Client(port) for _ in range(128)]
        extra = raw.Client(port)
        self.assertTrue(extra.closed(), "connection 129 was served")
        extra.close()
        conns[0].connect("first")
        conns[-1].connect("last")
        conns.pop().close()
        # room for one again once the server saw the close

        def one_more():
            conns.append(raw.Client(port))
            return still_open(conns[-1])

        self.assertTrue(wait_until(one_more, timeout=30))
        for c in conns:
            c.close()


class ConnectMemory(osaptest.OsapTestCase):
    services = ("das",)
    settings = {"osapd": {"worker_threads": 1},
                "das": {"allow_anonymous": True, "connect_max_packet": "64KiB",
                        "connect_max_total": "128KiB"}}

    def test_connect_max_total(self):
        self.osapd.start()
        port = self.osapd.port("das")
        # A CONNECT of about 50 KB (its will), sent in two halves.
        full = raw.connect("big", will_topic="w/big", will_payload=b"w" * 50000)
        a = partial_connect(port, 50000)
        b = raw.Client(port)
        b.send(full[:100])
        self.assertTrue(still_open(a) and still_open(b))
        # 100 KB are held: a third partial CONNECT of 50 KB does not fit.
        c = partial_connect(port, 50000)
        self.assertTrue(c.closed(), "a CONNECT beyond connect_max_total was buffered")
        c.close()
        # The second one completes: what it held is released, the connection works.
        b.send(full[100:])
        self.assertEqual(b.expect(raw.CONNACK).rc, 0)
        b.ping()
        # So does closing the first: room for two partial CONNECTs again.
        a.close()
        tries = []

        def another():
            tries.append(partial_connect(port, 50000))
            return still_open(tries[-1])

        self.assertTrue(wait_until(another, timeout=30))
        tries.append(partial_connect(port, 50000))
        self.assertTrue(still_open(tries[-1]))
        for x in [b] + tries:
            x.close()


class PasswordChecks(osaptest.OsapTestCase):
    """One auth thread, two checks may wait; a check costs about two seconds
    (2,000,000 PBKDF2 iterations); libuv's thread pool has one thread
    (worker_threads = 1), which the heartbeat needs every 100 ms. The CONNECTs
    wait for their checks within connect_timeout, raised for that."""
    services = ("das",)
    settings = {"osapd": {"worker_threads": 1},
                "das": {"password_iterations": 2000000, "auth_threads": 1, "auth_queue": 2,
                        "heartbeat": "100ms", "node_id": "auth-node",
                        "connect_timeout": "2min"}}

    def last_heartbeat(self):
        db = sqlite3.connect(os.path.join(self.osapd.data_dir, "osap.db"), timeout=5)
        try:
            row = db.execute("SELECT last_heartbeat FROM das_nodes").fetchone()
            return row[0] if row else 0
        finally:
            db.close()

    def test_queue_ceiling_and_heartbeat(self):
        self.osapd.admin("user", "add", "--user", "slow", "--password", "slow-secret")
        self.osapd.start()
        port = self.osapd.port("das")
        clients = [raw.Client(port, timeout=30) for _ in range(6)]
        t0 = time.monotonic()
        for i, c in enumerate(clients):
            c.send(raw.connect("slow-%d" % i, username="slow", password="slow-secret"))
        # One check runs, two wait: the others are refused at once.
        codes = []
        lag = 0
        done = threading.Event()

        def watch():
            nonlocal lag
            while not done.is_set():
                lag = max(lag, int(time.time() * 1000) - self.last_heartbeat())
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            for c in clients:
                codes.append(c.expect(raw.CONNACK, timeout=60).rc)
        finally:
            done.set()
            watcher.join()
        checks_ms = (time.monotonic() - t0) * 1000  # the accepted ones, one after the other
        refused, accepted = codes.count(3), codes.count(0)
        self.assertEqual(refused + accepted, 6, codes)
        self.assertGreaterEqual(refused, 3, codes)
        self.assertGreaterEqual(accepted, 2, codes)
        # The checks took seconds on the auth thread; the heartbeat, on libuv's
        # one pool thread, never fell behind by as much as one check: by less than
        # 900 ms, or a third of a check where a loaded machine makes a check take
        # much longer (about 2 s when idle).
        limit = max(900, checks_ms / accepted / 3)
        self.assertLess(lag, limit, "heartbeat lagged %d ms behind the password checks (%d "
                        "checks in %d ms)" % (lag, accepted, checks_ms))
        self.assertIn("too many password checks waiting (auth_queue)", self.osapd.log_text())
        for c in clients:
            c.close()


class BackPressure(osaptest.OsapTestCase):
    """A queue of 20 messages per session, two workers (the publisher and the
    subscriber on different ones, by their client ids' hash), and low inter-worker
    thresholds."""
    services = ("das",)
    settings = {"osapd": {"worker_threads": 2},
                "das": {"allow_anonymous": True, "max_queued_messages": 20,
                        "max_inflight": 5, "forward_high_water": 64,
                        "forward_low_water": 32, "max_hold_time": "2s"}}

    def setUp(self):
        super().setUp()
        self.osapd.start()
        self.port = self.osapd.port("das")

    def publish_windowed(self, pub, topic, count, window, stalls=None):
        """Publish count QoS 1 messages keeping at most window unacknowledged;
        stalls (a list) gets the longest wait for a PUBACK, in seconds."""
        sent = acked = 0
        longest = 0.0
        while acked < count:
            while sent < count and sent - acked < window:
                sent += 1
                pub.send(raw.publish(topic, b"%06d" % sent, qos=1, pid=sent))
            t0 = time.monotonic()
            p = pub.expect(raw.PUBACK, timeout=30)
            longest = max(longest, time.monotonic() - t0)
            acked += 1
            self.assertEqual(p.pid, acked, "PUBACKs out of order")
        if stalls is not None:
            stalls.append(longest)

    def test_slow_subscriber_loses_nothing(self):
        count = 400
        sub_id, pub_id = ids_on_two_workers("bp")
        sub = raw.connected(self.port, sub_id)
        sub.subscribe(1, ("bp/t", 1))
        pub = raw.connected(self.port, pub_id)
        result = {}

        def consume():
            got = []
            try:
                while len(got) < count:
                    p = sub.expect(raw.PUBLISH, timeout=30)
                    got.append(int(p.payload))
                    if len(got) % 10 == 0:
                        time.sleep(0.02)  # a slow consumer: 500 messages/s at most
                    sub.send(raw.ack(raw.PUBACK, p.pid))
            finally:
                result["got"] = got

        t = threading.Thread(target=consume)
        t.start()
        self.publish_windowed(pub, "bp/t", count, 10)
        t.join(60)
        # every acknowledged message arrived, once, in order
        self.assertEqual(result["got"], list(range(1, count + 1)))
        self.assertNotIn("queue full", self.osapd.log_text())
        for c in (sub, pub):
            c.close()

    def test_subscriber_that_never_acknowledges_lets_publishers_go(self):
        sub_id, pub_id = ids_on_two_workers("stuck")
        sub = raw.connected(self.port, sub_id)
        sub.subscribe(1, ("stuck/t", 1))
        other = raw.connected(self.port, "stuck-other")
        other.subscribe(1, ("free/t", 1))
        pub = raw.connected(self.port, pub_id)
        stalls = []
        # The stuck subscriber takes 5 in flight, queues 10 (half of 20): from then
        # on PUBACKs are held back, until max_hold_time (2 s) makes it a slow
        # consumer; then everything is acknowledged and its queue drops.
        self.publish_windowed(pub, "stuck/t", 200, 10, stalls)
        self.assertGreater(stalls[0], 1.0, "PUBACKs were never held back")
        self.assertIn("slow consumer, its publishers are no longer held back",
                      self.osapd.log_text())
        # The publisher is free for other topics, and so is the stuck client.
        self.publish_windowed(pub, "free/t", 20, 10)
        for i in range(20):
            p = other.expect(raw.PUBLISH)
            other.send(raw.ack(raw.PUBACK, p.pid))
        sub.send(raw.PINGREQ_BYTES)  # answered after the 5 messages in flight
        types = [sub.recv().type for _ in range(6)]
        self.assertEqual(types, [raw.PUBLISH] * 5 + [raw.PINGRESP])
        for c in (sub, other, pub):
            c.close()

    def test_clients_feeding_each_other(self):
        # Each one publishes to the other's topic as fast as its window allows and
        # acknowledges slowly: holds on both sides must not lock them up.
        a_id, b_id = ids_on_two_workers("feed")
        a = raw.connected(self.port, a_id)
        b = raw.connected(self.port, b_id)
        a.subscribe(1, ("feed/a", 1))
        b.subscribe(1, ("feed/b", 1))
        count = 150
        errors = []

        def run(me, topic):
            try:
                sent = acked = got = 0
                while acked < count or got < count:
                    while sent < count and sent - acked < 10:
                        sent += 1
                        me.send(raw.publish(topic, b"%06d" % sent, qos=1, pid=sent))
                    p = me.recv(timeout=30)
                    if p.type == raw.PUBACK:
                        acked += 1
                    elif p.type == raw.PUBLISH:
                        got += 1
                        if got % 10 == 0:
                            time.sleep(0.01)
                        me.send(raw.ack(raw.PUBACK, p.pid))
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=run, args=(a, "feed/b")),
                   threading.Thread(target=run, args=(b, "feed/a"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        self.assertEqual(errors, [])
        self.assertNotIn("queue full", self.osapd.log_text())
        a.close()
        b.close()


if __name__ == "__main__":
    osaptest.main()

"""The DAS against what an MQTT 3.1.1 interoperability suite expects of a broker
(the cases of the Eclipse Paho interoperability client test, checked here with
clients of our own): the basic run (connect/disconnect, QoS 0/1/2 round trips
with one client subscribed and publishing, a second CONNECT on a socket, a wrong
protocol name), retained messages and their clearing, wills on a broken
connection and on keepalive expiry, zero-length client ids, offline queueing for
persistent sessions, overlapping subscriptions, redelivery on reconnect, the
subscribe failure for a refused filter ("test/nosubscribe", refused to anonymous
clients by [das] anonymous_deny), $ topics, unsubscribe, and the suite's cleanup.

SuiteClient behaves like the suite's own client: raw packets over a socket, a
receiving thread that acknowledges QoS 1 at once and hands a QoS 2 message over
at PUBREL, and a pause() that leaves incoming PUBLISH packets unanswered. Every
packet it receives is kept, so the tests also check the flags (DUP, RETAIN) and
the QoS on the wire. osapd runs as such a suite needs: anonymous clients allowed,
two workers (so clients meet across workers too)."""

import os
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import osaptest  # noqa: E402
from das_clients import PahoTestCase, raw, wait_until  # noqa: E402

# The suite's topics and filters.
TOPICS = ("TopicA", "TopicA/B", "Topic/C", "TopicA/C", "/TopicA")
WILDTOPICS = ("TopicA/+", "+/C", "#", "/#", "/+", "+/+", "TopicA/#")
NOSUBSCRIBE = "test/nosubscribe"

WAIT = 10.0     # deadline for anything that must happen
QUIET = 1.0     # window in which something must NOT happen


class SuiteClient:
    """An MQTT 3.1.1 client that behaves like the interoperability suite's client."""

    def __init__(self, port, client_id):
        self.port = port
        self.client_id = client_id
        self.lock = threading.Lock()
        self.messages = []      # (topic, payload, qos, retain) handed to the application
        self.packets = []       # every packet received (raw.Packet), in order
        self.subacks = {}       # packet id -> return codes
        self.unsubacks = set()
        self.out = {}           # packet id -> qos of our unfinished publications
        self.in_qos2 = {}       # packet id -> PUBLISH waiting for its PUBREL
        self.paused = False
        self.next_pid = 0
        self.conn = None
        self.thread = None

    # -- connection -----------------------------------------------------------

    def connect(self, clean=True, keepalive=0, expect_rc=0, **kw):
        """Open a new socket and CONNECT; returns the CONNACK packet. The session
        state of the client (unfinished QoS 2 receptions) survives when clean is
        false, as in the suite."""
        self.conn = raw.Client(self.port)
        ack = self.conn.connect(self.client_id, clean=clean, keepalive=keepalive,
                                expect_rc=expect_rc, **kw)
        if clean:
            self.in_qos2 = {}
            self.out = {}
        self.thread = threading.Thread(target=self._receive, args=(self.conn,), daemon=True)
        self.thread.start()
        return ack

    def _receive(self, conn):
        while True:
            try:
                p = conn.recv(3600)
            except (raw.Closed, OSError, socket.timeout):
                return
            with self.lock:
                self.packets.append(p)
                self._handle(conn, p)

    def _handle(self, conn, p):
        if p.type == raw.SUBACK:
            self.subacks[p.pid] = p.codes
        elif p.type == raw.UNSUBACK:
            self.unsubacks.add(p.pid)
        elif p.type == raw.PUBACK:
            self.out.pop(p.pid, None)
        elif p.type == raw.PUBREC:
            conn.send(raw.ack(raw.PUBREL, p.pid))
        elif p.type == raw.PUBCOMP:
            self.out.pop(p.pid, None)
        elif p.type == raw.PUBREL:
            pub = self.in_qos2.pop(p.pid, None)
            if pub is not None:
                self.messages.append((pub.topic, pub.payload, 2, pub.retain))
            conn.send(raw.ack(raw.PUBCOMP, p.pid))
        elif p.type == raw.PUBLISH and not self.paused:
            if p.qos == 0:
                self.messages.append((p.topic, p.payload, 0, p.retain))
            elif p.qos == 1:
                self.messages.append((p.topic, p.payload, 1, p.retain))
                conn.send(raw.ack(raw.PUBACK, p.pid))
            else:
                self.in_qos2[p.pid] = p
                conn.send(raw.ack(raw.PUBREC, p.pid))

    def _pid(self):
        self.next_pid = self.next_pid % 65535 + 1
        return self.next_pid

    def disconnect(self):
        """Wait for our publications to complete (unless paused), DISCONNECT,
        close the socket."""
        if not self.paused:
            assert wait_until(lambda: not self.out, WAIT), "unfinished: %r" % self.out
        self.conn.send(raw.DISCONNECT_BYTES)
        self.close()

    def terminate(self):
        """Drop the connection without DISCONNECT."""
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close()

    def close(self):
        self.conn.close()
        if self.thread:
            self.thread.join(5)
            self.thread = None

    # -- requests -------------------------------------------------------------

    def subscribe(self, *filters):
        """filters: (filter, qos) pairs; returns the SUBACK return codes."""
        pid = self._pid()
        self.conn.send(raw.subscribe(pid, *filters))
        assert wait_until(lambda: pid in self.subacks, WAIT), "no SUBACK"
        return self.subacks[pid]

    def unsubscribe(self, *filters):
        pid = self._pid()
        self.conn.send(raw.unsubscribe(pid, *filters))
        assert wait_until(lambda: pid in self.unsubacks, WAIT), "no UNSUBACK"

    def publish(self, topic, payload, qos=0, retain=False):
        pid = self._pid() if qos else None
        with self.lock:
            if qos:
                self.out[pid] = qos
        self.conn.send(raw.publish(topic, payload, qos=qos, pid=pid, retain=retain))
        return pid

    def published(self):
        """Wait until every publication of ours is acknowledged to the end."""
        assert wait_until(lambda: not self.out, WAIT), "unfinished: %r" % self.out

    # -- what arrived ---------------------------------------------------------

    def wait_messages(self, n, timeout=WAIT, quiet=QUIET):
        """Exactly n messages: waits for them, then checks that no more arrive
        within quiet seconds. Returns them sorted."""
        wait_until(lambda: len(self.messages) >= n, timeout)
        if quiet:
            time.sleep(quiet)
        with self.lock:
            got = list(self.messages)
        assert len(got) == n, "expected %d messages, got %r" % (n, got)
        return sorted(got)

    def publishes(self):
        with self.lock:
            return [p for p in self.packets if p.type == raw.PUBLISH]

    def clear(self):
        with self.lock:
            self.messages = []
            self.packets = []


class ConformanceTest(PahoTestCase):
    settings = {"osapd": {"worker_threads": 2},
                "das": {"allow_anonymous": True, "anonymous_deny": NOSUBSCRIBE,
                        "password_iterations": 1000}}

    def setUp(self):
        super().setUp()
        self.a = SuiteClient(self.port, "myclientid")
        self.b = SuiteClient(self.port, "myclientid2")

    def tearDown(self):
        for c in (self.a, self.b):
            if c.conn is not None:
                c.close()
        super().tearDown()

    # -- the suite's basic run --------------------------------------------------

    def test_basic(self):
        a = self.a
        a.connect()
        a.disconnect()
        ack = a.connect()
        self.assertEqual(ack.body, b"\x00\x00")  # no session present, accepted
        self.assertEqual(a.subscribe((TOPICS[0], 2)), [2])
        a.publish(TOPICS[0], b"qos 0")
        a.publish(TOPICS[0], b"qos 1", 1)
        a.publish(TOPICS[0], b"qos 2", 2)
        got = a.wait_messages(3)
        self.assertEqual(got, [(TOPICS[0], b"qos 0", 0, False), (TOPICS[0], b"qos 1", 1, False),
                               (TOPICS[0], b"qos 2", 2, False)])
        a.disconnect()

    def test_second_connect_closes(self):
        c = raw.connected(self.port, "myclientid")
        c.send(raw.connect("myclientid"))
        self.assertTrue(c.closed(WAIT))
        c.close()

    def test_wrong_protocol_name_refused(self):
        c = raw.Client(self.port)
        c.send(raw.connect("myclientid", proto=b"hj"))
        try:
            p = c.recv(WAIT)
            # a CONNACK is allowed before the close, but never an acceptance
            self.assertEqual(p.type, raw.CONNACK)
            self.assertNotEqual(p.rc, 0)
        except raw.Closed:
            pass
        self.assertTrue(c.closed(WAIT))
        c.close()

    def test_other_protocol_levels_refused(self):
        # MQTT 3.1 (MQIsdp, level 3) and MQTT 5 (level 5): CONNACK 1, then the close
        for proto, level in ((b"MQIsdp", 3), (b"MQTT", 5), (b"MQTT", 3)):
            c = raw.Client(self.port)
            c.send(raw.connect("myclientid", proto=proto, level=level))
            p = c.expect(raw.CONNACK, WAIT)
            self.assertEqual(p.body, b"\x00\x01", (proto, level))
            self.assertTrue(c.closed(WAIT))
            c.close()

    def test_basic_with_paho(self):
        # the same round trip with paho-mqtt: one client subscribed and publishing
        p = self.paho("myclientid")
        self.assertEqual(p.session_present, 0)
        self.assertEqual(p.subscribe((TOPICS[0], 2)), [2])
        for q in (0, 1, 2):
            p.publish(TOPICS[0], b"qos %d" % q, qos=q)
        got = sorted((m.topic, m.payload, m.qos, m.retain) for m in p.take(3, timeout=WAIT))
        self.assertEqual(got, [(TOPICS[0], b"qos %d" % q, q, 0) for q in (0, 1, 2)])

    # -- retained messages ------------------------------------------------------

    def test_retained_messages(self):
        a = self.a
        self.assertEqual(a.connect(clean=True).body, b"\x00\x00")
        a.publish(TOPICS[1], b"qos 0", 0, retain=True)
        a.publish(TOPICS[2], b"qos 1", 1, retain=True)
        a.publish(TOPICS[3], b"qos 2", 2, retain=True)
        a.published()
        self.assertEqual(a.subscribe((WILDTOPICS[5], 2)), [2])
        got = a.wait_messages(3)
        self.assertEqual(got, [(TOPICS[2], b"qos 1", 1, True), (TOPICS[1], b"qos 0", 0, True),
                               (TOPICS[3], b"qos 2", 2, True)])
        # a message on a topic with a subscription already there: RETAIN 0
        a.clear()
        a.publish(TOPICS[1], b"live", 1, retain=True)
        self.assertEqual(a.wait_messages(1), [(TOPICS[1], b"live", 1, False)])
        a.disconnect()

        # clear them: empty retained payloads, which are forwarded like any message
        # to live subscribers but leave nothing for later ones
        a.clear()
        self.assertEqual(a.connect(clean=True).body, b"\x00\x00")
        a.publish(TOPICS[1], b"", 0, retain=True)
        a.publish(TOPICS[2], b"", 1, retain=True)
        a.publish(TOPICS[3], b"", 2, retain=True)
        a.published()
        self.assertEqual(a.subscribe((WILDTOPICS[5], 2)), [2])
        a.wait_messages(0)
        # an empty retained message still reaches the subscribers already there
        a.publish(TOPICS[1], b"", 1, retain=True)
        self.assertEqual(a.wait_messages(1), [(TOPICS[1], b"", 1, False)])
        a.disconnect()
        a.clear()
        a.connect(clean=True)
        self.assertEqual(a.subscribe((WILDTOPICS[2], 0)), [0])
        a.wait_messages(0)
        a.disconnect()

    def test_cleanup_finds_retained(self):
        # the suite's cleanup: "#" at QoS 0 lists the retained messages (RETAIN 1)
        # and empty retained publications delete them
        pub = SuiteClient(self.port, "setter")
        pub.connect()
        pub.publish(TOPICS[1], b"kept b", 1, retain=True)
        pub.publish(TOPICS[4], b"kept slash", 2, retain=True)
        pub.disconnect()
        clean = SuiteClient(self.port, "clean retained")
        clean.connect()
        clean.subscribe(("#", 0))
        got = clean.wait_messages(2)
        self.assertEqual(got, [(TOPICS[4], b"kept slash", 0, True),
                               (TOPICS[1], b"kept b", 0, True)])
        for topic, _, _, retained in got:
            self.assertTrue(retained)
            clean.publish(topic, b"", 0, retain=True)
        clean.disconnect()
        again = SuiteClient(self.port, "clean retained")
        again.connect()
        again.subscribe(("#", 0))
        again.wait_messages(0)
        again.disconnect()

    # -- wills and keepalive ------------------------------------------------------

    def test_will_message(self):
        a, b = self.a, self.b
        self.assertEqual(a.connect(clean=True, keepalive=2, will_topic=TOPICS[2],
                                   will_payload=b"client not disconnected",
                                   will_qos=2).body, b"\x00\x00")
        b.connect(clean=False)
        b.subscribe((TOPICS[2], 2))
        a.terminate()
        self.assertEqual(b.wait_messages(1),
                         [(TOPICS[2], b"client not disconnected", 2, False)])
        b.disconnect()

    def test_keepalive(self):
        # keepalive 5: the server closes the silent connection (at 1.5 times the
        # keepalive) and publishes its will; keepalive 0 is never timed out
        a, b = self.a, self.b
        a.connect(clean=True, keepalive=5, will_topic=TOPICS[4], will_payload=b"keepalive expiry",
                  will_qos=2)
        t0 = time.monotonic()
        b.connect(clean=True, keepalive=0)
        b.subscribe((TOPICS[4], 2))
        self.assertTrue(wait_until(lambda: b.messages, 15.0), "no will within 15 s")
        self.assertGreater(time.monotonic() - t0, 5.0)
        self.assertEqual(b.wait_messages(1), [(TOPICS[4], b"keepalive expiry", 2, False)])
        self.assertTrue(a.conn.closed(WAIT))
        # b, silent for as long with keepalive 0, is still connected
        self.assertEqual(b.subscribe((TOPICS[0], 1)), [1])
        b.disconnect()

    # -- client identifiers -------------------------------------------------------

    def test_zero_length_clientid(self):
        c = raw.Client(self.port)
        c.send(raw.connect("", clean=False))
        self.assertEqual(c.expect(raw.CONNACK, WAIT).body, b"\x00\x02")
        self.assertTrue(c.closed(WAIT))
        c.close()
        z = SuiteClient(self.port, "")
        self.assertEqual(z.connect(clean=True).body, b"\x00\x00")
        z.disconnect()

    def test_takeover_closes_old_connection(self):
        a = self.a
        a.connect(clean=False)
        first = a.conn
        other = SuiteClient(self.port, "myclientid")
        other.connect(clean=False)
        self.assertTrue(first.closed(WAIT))
        self.assertEqual(other.subscribe((TOPICS[0], 1)), [1])
        other.disconnect()

    # -- sessions -------------------------------------------------------------------

    def test_offline_message_queueing(self):
        a, b = self.a, self.b
        a.connect(clean=False)
        self.assertEqual(a.subscribe((WILDTOPICS[5], 2)), [2])
        a.disconnect()
        self.assertEqual(b.connect(clean=True).body, b"\x00\x00")
        b.publish(TOPICS[1], b"qos 0", 0)
        b.publish(TOPICS[2], b"qos 1", 1)
        b.publish(TOPICS[3], b"qos 2", 2)
        b.disconnect()
        ack = a.connect(clean=False)
        self.assertEqual(ack.body, b"\x01\x00")  # session present
        # QoS 0 messages are not queued for offline sessions (queue_qos0 = no)
        self.assertEqual(a.wait_messages(2), [(TOPICS[2], b"qos 1", 1, False),
                                              (TOPICS[3], b"qos 2", 2, False)])
        a.disconnect()

    def test_offline_queueing_of_qos0_when_configured(self):
        # queue_qos0 = yes: the suite's other accepted answer, all 3
        d = self.new_osapd(("das",), {"das": {"allow_anonymous": True, "queue_qos0": True}})
        d.start()
        a = SuiteClient(d.port("das"), "myclientid")
        b = SuiteClient(d.port("das"), "myclientid2")
        try:
            a.connect(clean=False)
            self.assertEqual(a.subscribe((WILDTOPICS[5], 2)), [2])
            a.disconnect()
            b.connect()
            b.publish(TOPICS[1], b"qos 0", 0)
            b.publish(TOPICS[2], b"qos 1", 1)
            b.publish(TOPICS[3], b"qos 2", 2)
            b.disconnect()
            self.assertEqual(a.connect(clean=False).body, b"\x01\x00")
            self.assertEqual(a.wait_messages(3), [(TOPICS[2], b"qos 1", 1, False),
                                                  (TOPICS[1], b"qos 0", 0, False),
                                                  (TOPICS[3], b"qos 2", 2, False)])
            a.disconnect()
        finally:
            for c in (a, b):
                if c.conn is not None:
                    c.close()

    def test_offline_queue_at_subscription_qos(self):
        # a queued message goes out at the lower of its QoS and the subscription's
        a, b = self.a, self.b
        a.connect(clean=False)
        self.assertEqual(a.subscribe((TOPICS[1], 1), (TOPICS[3], 0)), [1, 0])
        a.disconnect()
        b.connect()
        b.publish(TOPICS[1], b"two to one", 2)
        b.publish(TOPICS[3], b"two to zero", 2)
        b.disconnect()
        self.assertEqual(a.connect(clean=False).body, b"\x01\x00")
        self.assertEqual(a.wait_messages(1), [(TOPICS[1], b"two to one", 1, False)])
        a.disconnect()

    def test_redelivery_on_reconnect(self):
        b = self.b
        b.connect(clean=False)
        self.assertEqual(b.subscribe((WILDTOPICS[6], 2)), [2])
        b.paused = True
        b.publish(TOPICS[1], b"", 1)
        b.publish(TOPICS[3], b"", 2)
        # both come back to b (subscribed), which leaves them unanswered
        self.assertTrue(wait_until(lambda: len(b.publishes()) == 2, WAIT))
        b.published()  # its own publications were completed all the same
        first = {p.topic: p for p in b.publishes()}
        self.assertEqual(sorted((t, p.qos, p.dup) for t, p in first.items()),
                         [(TOPICS[1], 1, False), (TOPICS[3], 2, False)])
        b.disconnect()
        self.assertEqual(b.messages, [])
        b.paused = False
        b.clear()
        self.assertEqual(b.connect(clean=False).body, b"\x01\x00")
        self.assertEqual(b.wait_messages(2), [(TOPICS[1], b"", 1, False),
                                              (TOPICS[3], b"", 2, False)])
        # sent again with DUP and their packet ids, once each
        again = b.publishes()
        self.assertEqual(sorted((p.topic, p.qos, p.dup, p.pid) for p in again),
                         sorted((t, p.qos, True, p.pid) for t, p in first.items()))
        b.disconnect()

    def test_qos2_redelivery_after_pubrec_is_pubrel(self):
        # a QoS 2 message whose PUBREC reached the server is not sent again after
        # a reconnect: its PUBREL is, and the message is delivered once
        c = raw.connected(self.port, "myclientid2", clean=False)
        self.assertEqual(c.subscribe(1, (TOPICS[3], 2)), [2])
        pub = SuiteClient(self.port, "publisher")
        pub.connect()
        pub.publish(TOPICS[3], b"exactly once", 2)
        p = c.expect(raw.PUBLISH, WAIT)
        self.assertEqual((p.payload, p.qos, p.dup), (b"exactly once", 2, False))
        c.send(raw.ack(raw.PUBREC, p.pid))
        self.assertEqual(c.expect(raw.PUBREL, WAIT).pid, p.pid)
        c.close()  # no PUBCOMP
        c = raw.Client(self.port)
        self.assertEqual(c.connect("myclientid2", clean=False).body, b"\x01\x00")
        rel = c.expect(raw.PUBREL, WAIT)
        self.assertEqual((rel.pid, rel.raw_first), (p.pid, 0x62))
        c.send(raw.ack(raw.PUBCOMP, rel.pid))
        c.nothing(QUIET)
        c.send(raw.DISCONNECT_BYTES)
        c.close()
        pub.disconnect()

    # -- subscriptions ----------------------------------------------------------------

    def test_overlapping_subscriptions(self):
        # osapd sends one message per matching client, at the highest QoS of its
        # matching subscriptions (the suite accepts that or one per subscription)
        a = self.a
        a.connect()
        self.assertEqual(a.subscribe((WILDTOPICS[6], 2), (WILDTOPICS[0], 1)), [2, 1])
        a.publish(TOPICS[3], b"overlapping topic filters", 2)
        self.assertEqual(a.wait_messages(1),
                         [(TOPICS[3], b"overlapping topic filters", 2, False)])
        a.disconnect()

    def test_subscribe_failure(self):
        a = self.a
        a.connect()
        self.assertEqual(a.subscribe((NOSUBSCRIBE, 2)), [0x80])
        # per-filter codes in one SUBSCRIBE: the refused filter alone gets 0x80
        self.assertEqual(a.subscribe((TOPICS[0], 0), (NOSUBSCRIBE, 1), (TOPICS[1], 1),
                                     (WILDTOPICS[5], 2)), [0, 0x80, 1, 2])
        # anonymous clients may not publish there either (dropped, acknowledged)
        pid = a.publish(NOSUBSCRIBE, b"x", 1)
        self.assertIsNotNone(pid)
        a.published()
        a.wait_messages(0)
        a.disconnect()

    def test_anonymous_deny_scope(self):
        # the deny rule closes what it covers, to anonymous clients only
        a = self.a
        a.connect()
        self.assertEqual(a.subscribe(("#", 0), ("test/+", 1), ("test/nosubscribe/x", 1),
                                     ("test/#", 2)), [0, 1, 1, 2])
        a.disconnect()
        # a will on a closed topic: CONNACK 5 (not authorized)
        c = raw.Client(self.port)
        c.send(raw.connect("willer", will_topic=NOSUBSCRIBE, will_payload=b"w"))
        self.assertEqual(c.expect(raw.CONNACK, WAIT).body, b"\x00\x05")
        self.assertTrue(c.closed(WAIT))
        c.close()
        # a user's own ACL decides for the user
        d = self.osapd
        d.admin("user", "add", "--user", "tester", "--password", "tester-secret")
        d.admin("user", "acl", "--user", "tester", "--topic", "test/#", "--access", "readwrite")
        u = SuiteClient(self.port, "tester")
        u.connect(username="tester", password="tester-secret")
        self.assertEqual(u.subscribe((NOSUBSCRIBE, 1)), [1])
        u.publish(NOSUBSCRIBE, b"for users", 1)
        self.assertEqual(u.wait_messages(1), [(NOSUBSCRIBE, b"for users", 1, False)])
        u.disconnect()

    def test_anonymous_deny_must_be_filters(self):
        d = self.new_osapd(("das",), {"das": {"allow_anonymous": True,
                                              "anonymous_deny": "ok/#, bad/#/x"}})
        proc = d.start(wait=False)
        self.assertNotEqual(proc.wait(15), 0)
        self.assertIn("anonymous_deny: bad/#/x is not a topic filter", d.log_text())

    def test_dollar_topics(self):
        # wildcards at the first level never match $ topics. Anonymous clients may
        # not publish to $ topics (dropped, acknowledged), so a user who may does.
        d = self.osapd
        d.admin("user", "add", "--user", "sys", "--password", "sys-secret")
        d.admin("user", "acl", "--user", "sys", "--topic", "$TopicA/#", "--access", "readwrite")
        b = self.b
        b.connect(clean=True, keepalive=0)
        self.assertEqual(b.subscribe((WILDTOPICS[5], 2), (WILDTOPICS[2], 2)), [2, 2])
        b.publish("$" + TOPICS[1], b"", 1)
        b.published()
        b.wait_messages(0)
        s = SuiteClient(self.port, "sys")
        s.connect(username="sys", password="sys-secret")
        self.assertEqual(s.subscribe(("$TopicA/+", 1)), [1])
        s.publish("$" + TOPICS[1], b"dollar", 1)
        self.assertEqual(s.wait_messages(1), [("$TopicA/B", b"dollar", 1, False)])
        b.wait_messages(0, quiet=0.2)
        s.disconnect()
        b.disconnect()

    def test_unsubscribe(self):
        a, b = self.a, self.b
        b.connect(clean=True)
        for t in TOPICS[:3]:
            self.assertEqual(b.subscribe((t, 2)), [2])
        b.unsubscribe(TOPICS[0])
        a.connect(clean=True)
        for t in TOPICS[:3]:
            a.publish(t, b"", 1)
        a.published()
        self.assertEqual(b.wait_messages(2), [(TOPICS[2], b"", 1, False),
                                              (TOPICS[1], b"", 1, False)])
        b.disconnect()
        a.disconnect()

    def test_suback_unsuback_bytes(self):
        # exact bytes: SUBACK 0x90 with the packet id and one code per filter,
        # UNSUBACK 0xB0 02 with the packet id
        c = raw.connected(self.port, "bytes")
        c.send(raw.subscribe(0x1234, (TOPICS[0], 2), (NOSUBSCRIBE, 0)))
        p = c.expect(raw.SUBACK, WAIT)
        self.assertEqual((p.raw_first, p.body), (0x90, struct.pack(">H", 0x1234) + b"\x02\x80"))
        c.send(raw.unsubscribe(0x4321, TOPICS[0], NOSUBSCRIBE))
        p = c.expect(raw.UNSUBACK, WAIT)
        self.assertEqual((p.raw_first, p.body), (0xB0, b"\x43\x21"))
        c.close()


if __name__ == "__main__":
    osaptest.main()

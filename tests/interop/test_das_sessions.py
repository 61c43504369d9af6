"""DAS sessions with real clients: persistent sessions queue QoS 1/2 messages while
the client is away (bounded; oldest QoS 0 dropped first), clean sessions start and
end empty, the session-present flag, client-id take-over, empty client ids, DUP
redelivery of unacknowledged messages after a reconnect, the in-flight window."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import osaptest  # noqa: E402
from das_clients import PahoTestCase, raw, raw_publish_and_ack  # noqa: E402


class SessionTest(PahoTestCase):
    settings = {"osapd": {"worker_threads": 2},
                "das": {"allow_anonymous": True, "max_inflight": 3}}

    def test_persistent_session_queues_while_offline(self):
        sub = self.paho("keeper", clean=False)
        self.assertEqual(sub.session_present, 0)
        sub.subscribe(("keep/#", 2))
        sub.stop()
        self.clients.remove(sub)
        pub = self.paho("keeper-pub")
        pub.publish("keep/1", b"q1", qos=1)
        pub.publish("keep/0", b"q0", qos=0)  # QoS 0 is not queued by default
        pub.publish("keep/2", b"q2", qos=2)
        pub.publish("keep/1b", b"q1b", qos=1)
        back = self.paho("keeper", clean=False)
        self.assertEqual(back.session_present, 1)
        # (paho hands a QoS 2 message over at PUBREL, hence sorted)
        got = sorted((m.topic, m.payload, m.qos) for m in back.take(3))
        self.assertEqual(got, [("keep/1", b"q1", 1), ("keep/1b", b"q1b", 1),
                               ("keep/2", b"q2", 2)])
        # the subscription survived too: live messages flow without a new SUBSCRIBE
        pub.publish("keep/live", b"live", qos=1)
        self.assertEqual(back.get().payload, b"live")

    def test_clean_session_discards(self):
        sub = self.paho("cleaner", clean=False)
        sub.subscribe(("cl/#", 1))
        sub.stop()
        self.clients.remove(sub)
        raw_publish_and_ack(self.port, "cl/x", b"queued")
        # clean session 1: the old session is discarded, nothing is delivered
        fresh = self.paho("cleaner", clean=True)
        self.assertEqual(fresh.session_present, 0)
        fresh.nothing(0.7)
        raw_publish_and_ack(self.port, "cl/x", b"not subscribed any more")
        fresh.nothing(0.7)
        fresh.stop()
        self.clients.remove(fresh)
        # and a clean session leaves nothing behind
        again = self.paho("cleaner", clean=False)
        self.assertEqual(again.session_present, 0)
        again.nothing(0.5)

    def test_queue_limit_drops_oldest_qos0_first(self):
        self.osapd.stop()
        self.osapd.settings["das"].update({"max_queued_messages": 3, "queue_qos0": True})
        self.osapd.write_config()
        self.osapd.start()
        c = raw.connected(self.port, "bounded", clean=False)
        c.subscribe(1, ("b/#", 1))
        c.send(raw.DISCONNECT_BYTES)
        # closed by the server: the session is detached before the publishers come
        # (they may be served by another worker)
        self.assertTrue(c.closed())
        c.close()
        raw_publish_and_ack(self.port, "b/a", b"a", qos=0)
        raw_publish_and_ack(self.port, "b/b", b"b", qos=1)
        raw_publish_and_ack(self.port, "b/c", b"c", qos=1)
        raw_publish_and_ack(self.port, "b/d", b"d", qos=1)  # full: drops "a" (QoS 0)
        raw_publish_and_ack(self.port, "b/e", b"e", qos=1)  # full, no QoS 0 left: dropped
        back = raw.Client(self.port)
        self.assertTrue(back.connect("bounded", clean=False).session_present)
        got = []
        for _ in range(3):
            p = back.expect(raw.PUBLISH)
            got.append(p.payload)
            back.send(raw.ack(raw.PUBACK, p.pid))
        self.assertEqual(got, [b"b", b"c", b"d"])
        back.nothing(0.5)
        back.close()

    def test_session_expiry(self):
        self.osapd.stop()
        # long enough for "kept" to come back in time on a loaded machine
        self.osapd.settings["das"]["session_expiry"] = "3s"
        self.osapd.settings.setdefault("osapd", {})["log_level"] = "debug"
        self.osapd.write_config()
        self.osapd.start()
        c = raw.connected(self.port, "expiring", clean=False)
        c.subscribe(1, ("exp/#", 1))
        c.send(raw.DISCONNECT_BYTES)
        c.close()
        kept = raw.connected(self.port, "kept", clean=False)  # back in time: kept
        kept.subscribe(1, ("exp/#", 1))
        kept.send(raw.DISCONNECT_BYTES)
        kept.close()
        kept = raw.Client(self.port)
        self.assertTrue(kept.connect("kept", clean=False).session_present)
        # expired by the worker's timer, 3 s after the DISCONNECT
        self.osapd.wait_log("session expiring expired after")
        raw_publish_and_ack(self.port, "exp/x", b"late")
        back = raw.Client(self.port)
        self.assertFalse(back.connect("expiring", clean=False).session_present)
        back.nothing(0.5)
        back.close()
        # the connected client's session did not expire
        self.assertEqual(kept.expect(raw.PUBLISH).payload, b"late")
        kept.close()

    def test_takeover(self):
        first = raw.connected(self.port, "same-id", clean=False)
        first.subscribe(1, ("to/#", 1))
        second = raw.Client(self.port)
        ack = second.connect("same-id", clean=False)
        self.assertTrue(ack.session_present)
        self.assertTrue(first.closed(), "the older connection was not closed")
        raw_publish_and_ack(self.port, "to/x", b"after takeover")
        p = second.expect(raw.PUBLISH)
        self.assertEqual(p.payload, b"after takeover")
        second.send(raw.ack(raw.PUBACK, p.pid))
        second.ping()
        first.close()
        second.close()

    def test_takeover_with_paho(self):
        a = self.paho("paho-same", clean=False)
        a.subscribe(("tp/#", 1))
        b = self.paho("paho-same", clean=False)
        self.assertEqual(b.session_present, 1)
        self.assertNotEqual(a.disconnected(), 0)
        a.c.loop_stop()  # paho would reconnect and take the session back
        raw_publish_and_ack(self.port, "tp/1", b"to b")
        self.assertEqual(b.get().payload, b"to b")

    def test_empty_client_id(self):
        # clean session 1: accepted, each with an identifier of its own
        a = self.paho("", clean=True)
        b = self.paho("", clean=True)
        a.subscribe(("anon/#", 1))
        b.subscribe(("anon/#", 1))
        raw_publish_and_ack(self.port, "anon/x", b"both")
        self.assertEqual(a.get().payload, b"both")
        self.assertEqual(b.get().payload, b"both")
        # clean session 0: CONNACK 2 (identifier rejected)
        c = raw.Client(self.port)
        c.send(raw.connect("", clean=False))
        self.assertEqual(c.expect(raw.CONNACK).body, b"\x00\x02")
        self.assertTrue(c.closed())
        c.close()

    def test_dup_redelivery_after_reconnect(self):
        c = raw.connected(self.port, "dup", clean=False)
        c.subscribe(1, ("dup/#", 2))
        raw_publish_and_ack(self.port, "dup/1", b"one", qos=1)
        raw_publish_and_ack(self.port, "dup/2", b"two", qos=2)
        p1 = c.expect(raw.PUBLISH)
        p2 = c.expect(raw.PUBLISH)
        self.assertEqual((p1.payload, p1.qos, p1.dup), (b"one", 1, False))
        self.assertEqual((p2.payload, p2.qos, p2.dup), (b"two", 2, False))
        c.close()  # neither acknowledged
        c = raw.Client(self.port)
        self.assertTrue(c.connect("dup", clean=False).session_present)
        r1 = c.expect(raw.PUBLISH)
        r2 = c.expect(raw.PUBLISH)
        self.assertEqual((r1.payload, r1.pid, r1.dup, r1.qos), (b"one", p1.pid, True, 1))
        self.assertEqual((r2.payload, r2.pid, r2.dup, r2.qos), (b"two", p2.pid, True, 2))
        c.send(raw.ack(raw.PUBACK, r1.pid))
        c.send(raw.ack(raw.PUBREC, r2.pid))
        self.assertEqual(c.expect(raw.PUBREL).pid, r2.pid)
        c.close()  # PUBCOMP not sent: the PUBREL is repeated after reconnecting
        c = raw.Client(self.port)
        self.assertTrue(c.connect("dup", clean=False).session_present)
        rel = c.expect(raw.PUBREL)
        self.assertEqual(rel.pid, r2.pid)
        c.send(raw.ack(raw.PUBCOMP, rel.pid))
        c.nothing(0.5)
        c.close()

    def test_inflight_window(self):
        # max_inflight = 3: unacknowledged QoS 1 messages stop at 3; each PUBACK
        # lets one more through, in order.
        c = raw.connected(self.port, "window")
        c.subscribe(1, ("win", 1))
        for i in range(6):
            raw_publish_and_ack(self.port, "win", b"%d" % i, client_id="winpub")
        got = [c.expect(raw.PUBLISH) for _ in range(3)]
        self.assertEqual([p.payload for p in got], [b"0", b"1", b"2"])
        c.nothing(0.5)
        c.send(raw.ack(raw.PUBACK, got[1].pid))
        self.assertEqual(c.expect(raw.PUBLISH).payload, b"3")
        c.nothing(0.3)
        c.send(raw.ack(raw.PUBACK, got[0].pid) + raw.ack(raw.PUBACK, got[2].pid))
        more = [c.expect(raw.PUBLISH) for _ in range(2)]
        self.assertEqual([p.payload for p in more], [b"4", b"5"])
        c.close()


if __name__ == "__main__":
    osaptest.main()

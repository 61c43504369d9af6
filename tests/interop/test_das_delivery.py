"""DAS with real MQTT clients (paho-mqtt, mosquitto_pub/mosquitto_sub): QoS 0/1/2
delivery, wildcards and the $ rule, overlapping subscriptions, unsubscribe,
retained messages, fan-out across workers, large messages."""

import os
import select
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import osaptest  # noqa: E402
from das_clients import PahoTestCase, raw, mosquitto, mosquitto_sub_bg, raw_publish_and_ack  # noqa: E402


class DeliveryTest(PahoTestCase):
    settings = {"osapd": {"worker_threads": 3}, "das": {"allow_anonymous": True}}

    def test_qos_matrix(self):
        # Every subscription QoS x publish QoS: delivered once, at the lower QoS.
        sub = self.paho("matrix-sub")
        granted = sub.subscribe(*[("m/%d/#" % q, q) for q in range(3)])
        self.assertEqual(granted, [0, 1, 2])
        pub = self.paho("matrix-pub")
        for s in range(3):
            for p in range(3):
                pub.publish("m/%d/%d" % (s, p), b"s%dp%d" % (s, p), qos=p)
        got = sub.take(9)
        seen = {}
        for m in got:
            seen.setdefault(m.topic, []).append((m.qos, m.payload, m.retain))
        for s in range(3):
            for p in range(3):
                t = "m/%d/%d" % (s, p)
                self.assertEqual(seen.get(t), [(min(s, p), b"s%dp%d" % (s, p), 0)], t)

    def test_qos2_inbound_exactly_once(self):
        # A repeated QoS 2 PUBLISH (same packet id, DUP) before PUBREL is routed once.
        sub = self.paho("q2-sub")
        sub.subscribe(("q2/#", 2))
        c = raw.connected(self.port, "q2-raw")
        c.send(raw.publish("q2/x", b"once", qos=2, pid=7))
        self.assertEqual(c.expect(raw.PUBREC).pid, 7)
        c.send(raw.publish("q2/x", b"once", qos=2, pid=7, dup=True))
        self.assertEqual(c.expect(raw.PUBREC).pid, 7)
        c.send(raw.ack(raw.PUBREL, 7))
        self.assertEqual(c.expect(raw.PUBCOMP).pid, 7)
        # the id is free again: a new message with it is a new message
        c.send(raw.publish("q2/x", b"again", qos=2, pid=7))
        c.expect(raw.PUBREC)
        c.send(raw.ack(raw.PUBREL, 7))
        c.expect(raw.PUBCOMP)
        got = [(m.payload, m.qos) for m in sub.take(2)]
        self.assertEqual(got, [(b"once", 2), (b"again", 2)])
        c.close()

    def test_qos2_outbound_flow(self):
        # The server side of QoS 2 towards a subscriber: PUBLISH, PUBREC -> PUBREL,
        # PUBCOMP; then the next message flows.
        c = raw.connected(self.port, "q2-out")
        self.assertEqual(c.subscribe(1, ("o/#", 2)), [2])
        raw_publish_and_ack(self.port, "o/1", b"first", qos=2)
        p = c.expect(raw.PUBLISH)
        self.assertEqual((p.qos, p.dup, p.payload), (2, False, b"first"))
        c.send(raw.ack(raw.PUBREC, p.pid))
        self.assertEqual(c.expect(raw.PUBREL).pid, p.pid)
        c.send(raw.ack(raw.PUBCOMP, p.pid))
        raw_publish_and_ack(self.port, "o/2", b"second", qos=2)
        p2 = c.expect(raw.PUBLISH)
        self.assertEqual(p2.payload, b"second")
        self.assertNotEqual(p2.pid, 0)
        c.close()

    def test_wildcards(self):
        plus = self.paho("w-plus")
        plus.subscribe(("a/+/c", 1))
        hash_ = self.paho("w-hash")
        hash_.subscribe(("a/#", 1))
        every = self.paho("w-every")
        every.subscribe(("#", 1))
        pub = self.paho("w-pub")
        for t in ("a", "a/b", "a/b/c", "a/x/c", "a/b/c/d", "b/b/c", "a//c"):
            pub.publish(t, t.encode(), qos=1)

        def topics(c, n):
            return sorted(m.topic for m in c.take(n))

        self.assertEqual(topics(plus, 3), ["a//c", "a/b/c", "a/x/c"])
        self.assertEqual(topics(hash_, 6),
                         sorted(["a", "a/b", "a/b/c", "a/x/c", "a/b/c/d", "a//c"]))
        self.assertEqual(topics(every, 7), sorted(["a", "a/b", "a/b/c", "a/x/c", "a/b/c/d",
                                                   "b/b/c", "a//c"]))

    def test_leading_slash_and_empty_levels(self):
        sub = self.paho("slash-sub")
        sub.subscribe(("/+", 0), ("+/+", 0))
        pub = self.paho("slash-pub")
        pub.publish("/x", b"1", qos=1)
        pub.publish("x", b"2", qos=1)
        got = sub.take(1)
        self.assertEqual([(m.topic, m.payload) for m in got], [("/x", b"1")])

    def test_overlapping_subscriptions_delivered_once_at_max_qos(self):
        sub = self.paho("overlap")
        self.assertEqual(sub.subscribe(("ov/#", 0), ("ov/b", 2), ("+/b", 1)), [0, 2, 1])
        pub = self.paho("overlap-pub")
        pub.publish("ov/b", b"two", qos=2)
        pub.publish("ov/b", b"one", qos=1)
        pub.publish("ov/c", b"zero", qos=2)
        # (sorted: paho hands a QoS 2 message over only at PUBREL)
        got = sorted((m.topic, m.payload, m.qos) for m in sub.take(3))
        self.assertEqual(got, [("ov/b", b"one", 1), ("ov/b", b"two", 2), ("ov/c", b"zero", 0)])

    def test_resubscribe_replaces_qos(self):
        sub = self.paho("resub")
        sub.subscribe(("rs/x", 2))
        sub.subscribe(("rs/x", 0))
        pub = self.paho("resub-pub")
        pub.publish("rs/x", b"m", qos=2)
        got = [(m.payload, m.qos) for m in sub.take(1)]
        self.assertEqual(got, [(b"m", 0)])

    def test_unsubscribe(self):
        sub = self.paho("unsub")
        sub.subscribe(("u/a", 1), ("u/#", 1))
        pub = self.paho("unsub-pub")
        pub.publish("u/a", b"1", qos=1)
        self.assertEqual([m.payload for m in sub.take(1)], [b"1"])
        sub.unsubscribe("u/#")
        pub.publish("u/a", b"2", qos=1)  # still matches u/a
        pub.publish("u/b", b"3", qos=1)  # no longer matches anything
        self.assertEqual([m.payload for m in sub.take(1)], [b"2"])
        sub.unsubscribe("u/a", "never/subscribed")
        pub.publish("u/a", b"4", qos=1)
        sub.nothing(0.7)

    def test_retained_set_deliver_clear(self):
        pub = self.paho("ret-pub")
        pub.publish("ret/a", b"kept", qos=1, retain=True)
        pub.publish("ret/b", b"kept-b", qos=2, retain=True)
        pub.publish("ret/a/deeper", b"deep", qos=0, retain=True)
        sub = self.paho("ret-sub1")
        sub.subscribe(("ret/+", 1))
        got = sorted((m.topic, m.payload, m.qos, m.retain) for m in sub.take(2))
        self.assertEqual(got, [("ret/a", b"kept", 1, 1), ("ret/b", b"kept-b", 1, 1)])
        # a message to an established subscription carries RETAIN 0
        pub.publish("ret/a", b"newer", qos=1, retain=True)
        m = sub.get()
        self.assertEqual((m.payload, m.retain), (b"newer", 0))
        # '#' below the topic also matches the parent level
        sub2 = self.paho("ret-sub2")
        sub2.subscribe(("ret/a/#", 0))
        got = sorted((m.topic, m.payload, m.qos, m.retain) for m in sub2.take(2))
        self.assertEqual(got, [("ret/a", b"newer", 0, 1), ("ret/a/deeper", b"deep", 0, 1)])
        # an empty retained message clears the topic (and is delivered as usual)
        pub.publish("ret/a", b"", qos=1, retain=True)
        self.assertEqual(sub.get().payload, b"")
        sub3 = self.paho("ret-sub3")
        sub3.subscribe(("ret/#", 2))
        got = sorted((m.topic, m.payload, m.qos) for m in sub3.take(2))
        self.assertEqual(got, [("ret/a/deeper", b"deep", 0), ("ret/b", b"kept-b", 2)])

    def test_retained_sent_for_each_matching_filter(self):
        # Two filters of one SUBSCRIBE match the retained topic: each sends it.
        pub = self.paho("ret-two")
        pub.publish("visible/x", b"v", qos=1, retain=True)
        sub = self.paho("ret-two-sub")
        sub.subscribe(("#", 0), ("+/x", 0))
        got = [(m.topic, m.payload) for m in sub.take(2)]
        self.assertEqual(sorted(got), [("visible/x", b"v"), ("visible/x", b"v")])

    def test_mosquitto_clients(self):
        port = self.port
        # A retained marker tells when mosquitto_sub has subscribed: it arrives first.
        r = mosquitto("mosquitto_pub", port, "-t", "mq/0ready", "-m", "ready", "-r", "-q", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        sub = mosquitto_sub_bg(port, "-t", "mq/#", "-q", "2", "-v", "-C", "4", "-W", "10",
                               "-i", "mq-sub")
        try:
            ready, _, _ = select.select([sub.stdout], [], [], 10)
            self.assertTrue(ready, "mosquitto_sub printed nothing")
            self.assertEqual(sub.stdout.readline().strip(), "mq/0ready ready")
            for q in range(3):
                r = mosquitto("mosquitto_pub", port, "-t", "mq/q%d" % q, "-m", "hello %d" % q,
                              "-q", q)
                self.assertEqual(r.returncode, 0, r.stderr)
            out, err = sub.communicate(timeout=15)
        finally:
            if sub.poll() is None:
                sub.kill()
                sub.communicate()
        self.assertEqual(sub.returncode, 0, err)
        self.assertEqual(out.splitlines(), ["mq/q0 hello 0", "mq/q1 hello 1", "mq/q2 hello 2"])
        # retained with mosquitto_pub -r, read back, cleared with -r -n
        r = mosquitto("mosquitto_pub", port, "-t", "mq/retained", "-m", "sticky", "-r", "-q", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = mosquitto("mosquitto_sub", port, "-t", "mq/retained", "-C", "1", "-W", "5")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "sticky"), r.stderr)
        r = mosquitto("mosquitto_pub", port, "-t", "mq/retained", "-n", "-r")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = mosquitto("mosquitto_sub", port, "-t", "mq/retained", "-C", "1", "-W", "1")
        self.assertNotEqual(r.returncode, 0)  # timed out: nothing retained any more
        self.assertEqual(r.stdout, "")

    def test_fan_out_across_workers(self):
        # 24 subscribers (their sessions spread over the 3 workers) each get every
        # message exactly once, in order.
        subs = []
        for i in range(24):
            s = self.paho("fan-%d" % i)
            s.subscribe(("fan/#", 1))
            subs.append(s)
        pub = self.paho("fan-pub")
        for n in range(20):
            pub.publish("fan/x", b"%d" % n, qos=n % 2)
        for s in subs:
            got = [s.get().payload for _ in range(20)]
            self.assertEqual(got, [b"%d" % n for n in range(20)])
        for s in subs:
            s.nothing(0.05)  # and nothing twice

    def test_large_message(self):
        sub = self.paho("big-sub")
        sub.subscribe(("big", 1))
        payload = os.urandom(700 * 1024)
        pub = self.paho("big-pub")
        pub.publish("big", payload, qos=1)
        m = sub.get(10)
        self.assertEqual(m.payload, payload)


if __name__ == "__main__":
    osaptest.main()

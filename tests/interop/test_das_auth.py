"""DAS authentication and topic ACLs with real clients: MQTT users made with
`osapd user add` (mosquitto-compatible password hashes), CONNACK 4 for bad
credentials and 5 for refused clients, anonymous clients refused by default,
per-user ACLs on SUBSCRIBE (SUBACK 0x80) and PUBLISH (dropped, acknowledged), %u
substitution, the will topic checked at CONNECT, and the $ rule."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import osaptest  # noqa: E402
from das_clients import Paho, raw, mosquitto  # noqa: E402


class AuthTest(osaptest.OsapTestCase):
    services = ("das",)
    settings = {"osapd": {"worker_threads": 2}, "das": {"password_iterations": 1000}}

    def setUp(self):
        super().setUp()
        d = self.osapd
        d.admin("user", "add", "--user", "alice", "--password", "alice-secret")
        d.admin("user", "acl", "--user", "alice", "--topic", "a/#", "--access", "readwrite")
        d.admin("user", "acl", "--user", "alice", "--topic", "news/+", "--access", "read")
        d.admin("user", "acl", "--user", "alice", "--topic", "users/%u/#", "--access",
                "readwrite")
        d.admin("user", "add", "--user", "bob", "--password", "bob-secret")
        d.admin("user", "acl", "--user", "bob", "--topic", "news/#", "--access", "write")
        d.admin("user", "acl", "--user", "bob", "--topic", "$sys/#", "--access", "readwrite")
        d.admin("user", "acl", "--user", "bob", "--topic", "#", "--access", "read")
        d.admin("user", "add", "--user", "nobody", "--password", "nobody-secret")
        d.start()
        self.port = d.port("das")

    def connack(self, **kw):
        c = raw.Client(self.port)
        c.send(raw.connect(kw.pop("client_id", "c"), **kw))
        p = c.expect(raw.CONNACK)
        return c, p

    def test_anonymous_refused_by_default(self):
        c, p = self.connack()
        self.assertEqual(p.body, b"\x00\x05")
        self.assertTrue(c.closed())
        c.close()
        r = mosquitto("mosquitto_pub", self.port, "-t", "x", "-m", "y")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not authori", r.stderr.lower())

    def test_good_password(self):
        c, p = self.connack(username="alice", password="alice-secret")
        self.assertEqual(p.body, b"\x00\x00")
        c.ping()
        c.close()
        paho = Paho(self.port, "alice-paho", username="alice", password="alice-secret")
        paho.stop()

    def test_bad_credentials_connack_4(self):
        for kw in ({"username": "alice", "password": "wrong"},
                   {"username": "alice", "password": ""},
                   {"username": "alice"},
                   {"username": "mallory", "password": "alice-secret"},
                   {"username": "", "password": "x"}):
            c, p = self.connack(**kw)
            self.assertEqual(p.body, b"\x00\x04", kw)
            self.assertTrue(c.closed(), kw)
            c.close()
        paho = Paho(self.port, "bad-paho", username="alice", password="nope", expect_rc=None)
        paho.c.loop_stop()
        self.assertEqual(paho.rc, 4)
        r = mosquitto("mosquitto_pub", self.port, "-t", "a/x", "-m", "y", "-u", "alice", "-P",
                      "nope")
        self.assertNotEqual(r.returncode, 0)

    def test_mosquitto_clients_with_credentials(self):
        r = mosquitto("mosquitto_pub", self.port, "-t", "a/kept", "-m", "hi", "-r", "-q", "1",
                      "-u", "alice", "-P", "alice-secret")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = mosquitto("mosquitto_sub", self.port, "-t", "a/kept", "-C", "1", "-W", "5", "-u",
                      "alice", "-P", "alice-secret")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "hi"), r.stderr)

    def test_suback_0x80_from_acl(self):
        c, p = self.connack(client_id="alice-1", username="alice", password="alice-secret")
        codes = c.subscribe(1, ("a/x", 1), ("b/y", 1), ("#", 0), ("news/today", 2),
                            ("news/#", 0), ("a/#", 2), ("+/x", 0))
        # news/+ covers news/today but not news/# (deeper topics)
        self.assertEqual(codes, [1, 0x80, 0x80, 2, 0x80, 2, 0x80])
        c.close()

    def test_user_without_rules_has_no_access(self):
        c, p = self.connack(client_id="nobody-1", username="nobody", password="nobody-secret")
        self.assertEqual(p.rc, 0)
        self.assertEqual(c.subscribe(1, ("a/x", 0)), [0x80])
        c.send(raw.publish("a/x", b"x", qos=1, pid=3))
        self.assertEqual(c.expect(raw.PUBACK).pid, 3)
        c.close()

    def test_publish_refused_is_acknowledged_and_dropped(self):
        reader = Paho(self.port, "reader", username="bob", password="bob-secret")
        try:
            self.assertEqual(reader.subscribe(("#", 2)), [2])
            c, p = self.connack(client_id="alice-2", username="alice", password="alice-secret")
            c.send(raw.publish("b/x", b"q0"))                  # dropped silently
            c.send(raw.publish("b/x", b"q1", qos=1, pid=5))    # PUBACK, dropped
            self.assertEqual(c.expect(raw.PUBACK).pid, 5)
            c.send(raw.publish("b/x", b"q2", qos=2, pid=6))    # PUBREC, dropped
            self.assertEqual(c.expect(raw.PUBREC).pid, 6)
            c.send(raw.ack(raw.PUBREL, 6))
            self.assertEqual(c.expect(raw.PUBCOMP).pid, 6)
            c.send(raw.publish("a/ok", b"allowed", qos=1, pid=7))
            self.assertEqual(c.expect(raw.PUBACK).pid, 7)
            got = [(m.topic, m.payload) for m in reader.take(1)]
            self.assertEqual(got, [("a/ok", b"allowed")])
            c.ping()  # the connection stays up
            c.close()
        finally:
            reader.stop()

    def test_user_name_substitution(self):
        c, p = self.connack(client_id="alice-3", username="alice", password="alice-secret")
        self.assertEqual(c.subscribe(1, ("users/alice/#", 1), ("users/bob/#", 1)), [1, 0x80])
        c.send(raw.publish("users/alice/inbox", b"mine", qos=1, pid=2))
        got = sorted(c.recv().type for _ in range(2))
        self.assertEqual(got, [raw.PUBLISH, raw.PUBACK])
        c.close()

    def test_will_topic_must_be_writable(self):
        c, p = self.connack(client_id="alice-4", username="alice", password="alice-secret",
                            will_topic="b/will", will_payload=b"x")
        self.assertEqual(p.body, b"\x00\x05")
        self.assertTrue(c.closed())
        c.close()
        c, p = self.connack(client_id="alice-5", username="alice", password="alice-secret",
                            will_topic="a/will", will_payload=b"x")
        self.assertEqual(p.rc, 0)
        c.close()

    def test_dollar_topics_and_wildcards(self):
        # bob may read '#' and read/write $sys/#: '#' and '+/...' never match a topic
        # that starts with '$'; a filter that names the $ level does.
        everything = Paho(self.port, "bob-all", username="bob", password="bob-secret")
        dollar = Paho(self.port, "bob-dollar", username="bob", password="bob-secret")
        try:
            everything.subscribe(("#", 1), ("+/load", 1))
            dollar.subscribe(("$sys/#", 1))
            pub = Paho(self.port, "bob-pub", username="bob", password="bob-secret")
            pub.publish("$sys/load", b"42", qos=1)
            pub.publish("news/load", b"7", qos=1)
            pub.stop()
            # (news/load matches both filters of that client: delivered once)
            self.assertEqual([(m.topic, m.payload) for m in everything.take(1)],
                             [("news/load", b"7")])
            self.assertEqual([(m.topic, m.payload) for m in dollar.take(1)],
                             [("$sys/load", b"42")])
        finally:
            everything.stop()
            dollar.stop()

    def test_anonymous_allowed(self):
        self.osapd.stop()
        self.osapd.settings["das"]["allow_anonymous"] = True
        self.osapd.write_config()
        self.osapd.start()
        c, p = self.connack(client_id="anon")
        self.assertEqual(p.rc, 0)
        self.assertEqual(c.subscribe(1, ("#", 0), ("$osap/#", 0)), [0, 0])
        # anonymous clients may not publish to '$' topics (device data lives there)
        c.send(raw.publish("$osap/Q1/status", b"forged", qos=1, pid=4))
        self.assertEqual(c.expect(raw.PUBACK).pid, 4)
        c.send(raw.publish("plain", b"ok", qos=1, pid=5))
        got = sorted(c.recv().type for _ in range(2))
        self.assertEqual(got, [raw.PUBLISH, raw.PUBACK])
        c.nothing(0.5)
        c.close()


if __name__ == "__main__":
    osaptest.main()

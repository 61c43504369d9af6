"""DAS MQTT protocol violations, byte by byte: every bad input closes that one
connection (with a CONNACK code where MQTT 3.1.1 prescribes one) while a healthy
client on the same server keeps publishing and receiving."""

import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)

import osaptest  # noqa: E402
import das_mqtt_raw as raw  # noqa: E402


class ProtocolTest(osaptest.OsapTestCase):
    services = ("das",)
    settings = {
        "osapd": {"worker_threads": 2},
        "das": {"allow_anonymous": True, "connect_timeout": "1s",
                "max_packet_size": "4KiB", "connect_max_packet": "1KiB"},
    }

    def setUp(self):
        super().setUp()
        self.osapd.start()
        self.port = self.osapd.port("das")
        self.healthy = raw.connected(self.port, "healthy", keepalive=60)
        self.assertEqual(self.healthy.subscribe(1, ("health/#", 1)), [1])
        self.round = 0

    def tearDown(self):
        self.healthy.close()
        super().tearDown()

    def check_healthy(self):
        """The healthy client still gets what it publishes."""
        self.round += 1
        self.healthy.send(raw.publish("health/x", b"ping %d" % self.round, qos=1, pid=self.round))
        got = []
        for _ in range(2):
            got.append(self.healthy.recv())
        types = sorted(p.type for p in got)
        self.assertEqual(types, [raw.PUBLISH, raw.PUBACK])
        pub = [p for p in got if p.type == raw.PUBLISH][0]
        self.assertEqual(pub.payload, b"ping %d" % self.round)
        self.healthy.send(raw.ack(raw.PUBACK, pub.pid))

    def bad(self, data, connect_first=True, expect=None, client_id="bad"):
        """Send data (after a good CONNECT when connect_first) and check the server
        closes the connection; with expect, the bytes received before the close."""
        c = raw.Client(self.port)
        try:
            if connect_first:
                c.connect(client_id)
            c.send(data)
            if expect is not None:
                got = b""
                c.sock.settimeout(30)
                while True:
                    chunk = c.sock.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                self.assertEqual(got, expect)
            else:
                self.assertTrue(c.closed(), "connection not closed after %r" % data[:16])
        finally:
            c.close()
        self.check_healthy()

    # -- before CONNECT -----------------------------------------------------------

    def test_publish_before_connect(self):
        self.bad(raw.publish("a", b"x"), connect_first=False, expect=b"")

    def test_pingreq_before_connect(self):
        self.bad(raw.PINGREQ_BYTES, connect_first=False, expect=b"")

    def test_subscribe_before_connect(self):
        self.bad(raw.subscribe(1, ("a", 0)), connect_first=False, expect=b"")

    def test_connect_timeout_silent(self):
        c = raw.Client(self.port)
        t0 = time.monotonic()
        self.assertTrue(c.closed())
        elapsed = time.monotonic() - t0
        self.assertGreater(elapsed, 0.8)
        self.assertLess(elapsed, 3.0)
        c.close()
        self.check_healthy()

    def test_connect_timeout_partial_connect(self):
        c = raw.Client(self.port)
        full = raw.connect("slow")
        c.send(full[:5])  # the header and a few bytes, never the rest
        t0 = time.monotonic()
        self.assertTrue(c.closed())
        self.assertLess(time.monotonic() - t0, 3.0)
        c.close()
        self.check_healthy()

    def test_connect_bytes_one_at_a_time(self):
        # Not a violation: a CONNECT dribbled byte by byte is accepted.
        c = raw.Client(self.port)
        for b in raw.connect("dribble"):
            c.send(bytes([b]))
            time.sleep(0.002)
        p = c.expect(raw.CONNACK)
        self.assertEqual(p.body, b"\x00\x00")
        c.ping()
        c.close()

    def test_oversize_connect(self):
        # [das] connect_max_packet is 1 KiB: the declared length alone closes it.
        c = raw.Client(self.port)
        c.send(b"\x10" + raw.remlen(2000) + b"\x00\x04MQTT")
        self.assertTrue(c.closed())
        c.close()
        self.check_healthy()

    # -- CONNECT contents ---------------------------------------------------------

    def test_protocol_level_3_gets_connack_1(self):
        self.bad(raw.connect("old", proto=b"MQIsdp", level=3), connect_first=False,
                 expect=b"\x20\x02\x00\x01")

    def test_protocol_level_5_gets_connack_1(self):
        self.bad(raw.connect("new", level=5), connect_first=False, expect=b"\x20\x02\x00\x01")

    def test_empty_client_id_persistent_gets_connack_2(self):
        self.bad(raw.connect("", clean=False), connect_first=False, expect=b"\x20\x02\x00\x02")

    def test_connect_reserved_flag(self):
        self.bad(raw.connect("x", flags=0x03), connect_first=False, expect=b"")

    def test_will_qos_3(self):
        self.bad(raw.connect("x", will_topic="w", will_qos=3), connect_first=False, expect=b"")

    def test_password_without_user_name(self):
        self.bad(raw.connect("x", flags=0x42) + b"\x00\x01p", connect_first=False, expect=b"")

    def test_second_connect(self):
        self.bad(raw.connect("again"))

    # -- fixed header ---------------------------------------------------------------

    def test_reserved_type_0(self):
        self.bad(b"\x00\x00")

    def test_reserved_type_15(self):
        self.bad(b"\xf0\x00")

    def test_subscribe_reserved_flags(self):
        sub = bytearray(raw.subscribe(1, ("a", 0)))
        sub[0] = 0x80
        self.bad(bytes(sub))

    def test_pubrel_reserved_flags(self):
        self.bad(b"\x60\x02\x00\x01")

    def test_pingreq_flags(self):
        self.bad(b"\xc1\x00")

    def test_publish_qos_3(self):
        p = bytearray(raw.publish("a", b"x", qos=1, pid=1))
        p[0] = 0x36
        self.bad(bytes(p))

    def test_publish_dup_with_qos_0(self):
        p = bytearray(raw.publish("a", b"x"))
        p[0] |= 0x08
        self.bad(bytes(p))

    def test_five_byte_remaining_length(self):
        self.bad(b"\x30\xff\xff\xff\xff\x01")

    def test_non_minimal_remaining_length(self):
        self.bad(b"\xc0\x80\x00")

    def test_oversize_publish(self):
        # max_packet_size is 4 KiB: refused as soon as the length is known.
        self.bad(b"\x30" + raw.remlen(5000) + b"\x00\x01a")

    def test_publish_at_the_limit_is_fine(self):
        # Not a violation: a packet of exactly max_packet_size (4096 bytes) passes.
        c = raw.connected(self.port, "limit")
        topic = "health/big"
        payload = b"p" * (4093 - (2 + len(topic)) - 2)
        data = raw.publish(topic, payload, qos=1, pid=9)
        self.assertEqual(len(data), 4096)
        c.send(data)
        self.assertEqual(c.expect(raw.PUBACK).pid, 9)
        pub = self.healthy.expect(raw.PUBLISH)
        self.assertEqual(pub.payload, payload)
        self.healthy.send(raw.ack(raw.PUBACK, pub.pid))
        c.close()

    def test_puback_wrong_length(self):
        self.bad(b"\x40\x03\x00\x01\x00")

    def test_pingreq_with_body(self):
        self.bad(b"\xc0\x01\x00")

    # -- packet bodies --------------------------------------------------------------

    def test_publish_topic_with_wildcard(self):
        self.bad(raw.publish("a/+", b"x"))

    def test_publish_empty_topic(self):
        self.bad(b"\x30\x03\x00\x00x")

    def test_publish_bad_utf8(self):
        self.bad(b"\x30\x05\x00\x02\xc3\x28x")

    def test_publish_topic_with_nul(self):
        self.bad(b"\x30\x05\x00\x02a\x00x")

    def test_publish_packet_id_zero(self):
        self.bad(raw.publish("a", b"x", qos=1, pid=0))

    def test_subscribe_without_filters(self):
        self.bad(b"\x82\x02\x00\x01")

    def test_subscribe_bad_filter(self):
        self.bad(raw.subscribe(1, ("a/#/b", 0)))

    def test_subscribe_qos_3(self):
        self.bad(raw.subscribe(1, ("a", 3)))

    def test_unsubscribe_without_filters(self):
        self.bad(b"\xa2\x02\x00\x01")

    def test_string_longer_than_packet(self):
        self.bad(b"\x30\x04\x00\x09ab")

    def test_server_packet_types_from_client(self):
        self.bad(b"\x20\x02\x00\x00")  # CONNACK

    def test_suback_from_client(self):
        self.bad(b"\x90\x03\x00\x01\x00")

    def test_garbage_after_good_packets(self):
        c = raw.connected(self.port, "garbage")
        c.send(raw.PINGREQ_BYTES + raw.PINGREQ_BYTES + b"\xff\xff")
        self.assertEqual(c.expect(raw.PINGRESP).type, raw.PINGRESP)
        self.assertEqual(c.expect(raw.PINGRESP).type, raw.PINGRESP)
        self.assertTrue(c.closed())
        c.close()
        self.check_healthy()

    def test_many_packets_in_one_segment(self):
        # Not a violation: 200 PINGREQs in one write get 200 PINGRESPs.
        c = raw.connected(self.port, "burst")
        c.send(raw.PINGREQ_BYTES * 200)
        for _ in range(200):
            c.expect(raw.PINGRESP)
        c.close()


if __name__ == "__main__":
    osaptest.main()

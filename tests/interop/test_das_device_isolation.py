"""Ordinary MQTT clients next to OSAP devices: what a client publishes on a device's
topics reaches the device only within the device's limits (at most QoS 1, packets
that fit its 16 KiB buffer, spec 6.1 and 6.6), and a client id equal to a device
serial is another session, so it cannot take the device's connection over. Uses
the device layer's test harness (tests/integration/dastest.py)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import dastest  # noqa: E402
from dastest import raw  # noqa: E402
import osaptest  # noqa: E402


class DeviceIsolationTest(dastest.DasTestCase):
    settings = {"das": {"allow_anonymous": True}, "osapd": {"worker_threads": 2}}

    def test_device_limits_on_routed_messages(self):
        self.start()
        dev = self.online()
        app = raw.connected(self.osapd.port("das"), "app")
        topic = "/%s/x" % dastest.SN
        app.send(raw.publish(topic, b"b" * 17000, qos=1, pid=1))  # over 16 KiB: not sent
        app.expect(raw.PUBACK)
        app.send(raw.publish(topic, b"small", qos=2, pid=2))        # QoS 2: sent at QoS 1
        app.expect(raw.PUBREC)
        app.send(raw.ack(raw.PUBREL, 2))
        app.expect(raw.PUBCOMP)
        p = dev.expect(raw.PUBLISH)
        self.assertEqual((p.topic, p.payload, p.qos), (topic, b"small", 1))
        dev.send(raw.ack(raw.PUBACK, p.pid))
        dev.nothing(0.5)
        app.close()

    def test_client_id_equal_to_a_serial_is_another_session(self):
        self.start()
        dev = self.online()
        port = self.osapd.port("das")
        impostor = raw.connected(port, dastest.SN, clean=False)
        self.assertEqual(impostor.subscribe(1, ("x", 0)), [0])
        dev.ping()  # the device's connection is untouched
        impostor.ping()
        impostor.close()
        dev.ping()


if __name__ == "__main__":
    osaptest.main()

"""Device registrations at the DAS (spec 6.2-6.4): the CONNACK code of every
verdict, exactly (10 blocked; 11 no device, no session, wrong session key, wrong
devid; 5 inconsistent identities; 12 a full registration while connected, then
the light registration that takes over), sessions kept across light
reconnections, the two standard subscriptions restored after an osapd restart,
the provisioned thing model kept apart from the registration's DevType, and what
is not a device. What ingest stores (online state, registration data) is
committed asynchronously: the tests wait for it with a deadline."""

import socket
import unittest

import dastest
from dastest import raw


class TestVerdicts(dastest.DasTestCase):

    def refused(self, code, **kw):
        dev = self.device()
        dev.send(dastest.device_connect(**kw))
        p = dev.recv()
        wire = bytes([p.raw_first]) + raw.remlen(len(p.body)) + p.body
        self.assertEqual(wire.hex(), "200200%02x" % code)
        self.assertTrue(dev.closed(), "connection stays open after CONNACK %d" % code)

    def test_accepted_full_and_light(self):
        self.start()
        dev = self.device()
        p = dev.register()
        self.assertFalse(p.session_present)
        dev.send(raw.DISCONNECT_BYTES)
        self.assertTrue(dev.closed())
        dev = self.device()
        p = dev.register(full=False)
        self.assertTrue(p.session_present)

    def test_blocked_device_gets_10(self):
        self.osapd.admin("device", "block", dastest.SN)
        self.start()
        self.refused(10)
        self.refused(10, full=False)

    def test_no_device_or_no_session_gets_11(self):
        self.start()
        self.refused(11, serial="NOTPROVISIONED")
        dastest.store(self.osapd.data_dir, "nosession", dastest.SN)
        self.refused(11)

    def test_wrong_session_key_gets_11(self):
        self.start()
        self.refused(11, key=dastest.KEY_B)
        self.refused(11, key=dastest.KEY_B, full=False)

    def test_wrong_devid_gets_11(self):
        self.start()
        self.refused(11, devid="X" * 32)
        self.refused(11, devid="GOLDEN0123456789ABCDEF012345678", full=False)

    def test_malformed_registration_gets_11(self):
        self.start()
        self.refused(11, reg="not json")
        self.refused(11, reg='{"SubSerial":"%s"}' % dastest.SN)

    def test_inconsistent_identities_get_5(self):
        self.start()
        # The will topic names another serial than the user name.
        self.refused(5, will_serial="Q87654321")
        # The registration (decrypted with the user name's session) names another.
        self.refused(5, reg=dastest.registration(serial="Q87654321"))

    def test_full_registration_while_connected_gets_12_then_light_takes_over(self):
        h = self.start()
        first = self.online()
        self.refused(12)
        # The device falls back to a light registration: accepted, and the older
        # connection is closed by the server.
        second = self.device()
        second.register(full=False)
        self.assertTrue(first.closed(), "the replaced connection stays open")
        # Requests reach the new connection.
        rid = h.request("set", "d", "k", "1")
        down = second.expect_downlink()
        second.reply(down, "set_reply", '{"code":0}')
        self.assertEqual(h.result(rid)[:2], ("OK", 0))
        # Online (committed by ingest after the registration), and it stays online:
        # the replaced connection's end is not an offline transition.
        self.wait_for(lambda: self.device_row()["online"], what="online")
        second.ping()
        self.assertTrue(self.device_row()["online"])

    def test_registration_keeps_the_provisioned_model(self):
        # Provisioned with a thing model: the registration's DevType goes to
        # dev_type, the model stays (the platform validates against it).
        serial = "Q55555555"
        self.osapd.admin("device", "add", "--serial", serial, "--code", "ABCDEF",
                         "--model", "ip_camera")
        dastest.store(self.osapd.data_dir, "session", serial, dastest.DEVID, dastest.KEY_A)
        self.start()
        dev = self.device(serial=serial)
        dev.register()
        row = self.wait_for(lambda: (lambda r: r if r["dev_type"] else None)(
            self.device_row(serial)), what="the registration's DevType stored")
        self.assertEqual(row["dev_type"], "GOLDEN_MODEL")
        self.assertEqual(row["model"], "ip_camera")
        self.assertEqual(row["firmware"], "V1.2.0 build 201212")
        # A light registration (no DevType) changes neither.
        dev.close()
        self.wait_for(lambda: not self.device_row(serial)["online"], what="offline")
        dev = self.device(serial=serial)
        dev.register(full=False)
        self.wait_for(lambda: self.device_row(serial)["online"], what="online again")
        row = self.device_row(serial)
        self.assertEqual((row["model"], row["dev_type"]), ("ip_camera", "GOLDEN_MODEL"))

    def test_light_reconnection_keeps_subscriptions(self):
        self.start()
        dev = self.online()
        dev.close()  # the link is lost; the device reconnects light, no SUBSCRIBE
        self.wait_for(lambda: not self.device_row()["online"], what="offline")
        dev = self.device()  # CONNECT follows at once (connect_timeout)
        dev.register(full=False)
        app = raw.connected(self.osapd.port("das"), "app1")
        self.addCleanup(app.close)
        # The layer subscribes the session right after the CONNACK, on the device's
        # worker: wait for the first filter, then the second works at once.
        self.wait_for(lambda: self._delivered(
            app, dev, "/iot/%s/global/0-global/x/y/z" % dastest.SN, b"ping"),
            what="delivery to the restored /iot/<sn>/# subscription")
        app.send(raw.publish("/%s/1100/1" % dastest.SN, b"pong", qos=0))
        while dev.expect(raw.PUBLISH).payload != b"pong":
            pass  # a late copy of an earlier ping

    def test_light_registration_after_restart_gets_its_subscriptions_back(self):
        self.start()
        self.online().close()
        self.restart()  # broker sessions are gone; the device session is in the store
        dev = self.device()
        p = dev.register(full=False)
        self.assertTrue(p.session_present)
        app = raw.connected(self.osapd.port("das"), "app2")
        self.addCleanup(app.close)
        # The subscriptions are restored right after the CONNACK.
        self.wait_for(lambda: self._delivered(app, dev, "/%s/x" % dastest.SN, b"hello"),
                      what="delivery to the restored subscription")

    def _delivered(self, app, dev, topic, payload):
        app.send(raw.publish(topic, payload, qos=0))
        try:
            return dev.expect(raw.PUBLISH, timeout=0.3).payload == payload
        except socket.timeout:
            return False


class TestNotDevices(dastest.DasTestCase):

    def test_will_topic_not_in_device_form_is_an_ordinary_client(self):
        self.start()
        c = raw.Client(self.osapd.port("das"))
        self.addCleanup(c.close)
        topic = b"/Basic/pu2cenplt/" + dastest.SN.encode() + b"/other"
        c.send(raw.connect("c1", clean=True, username=dastest.SN, password="test",
                           will_topic=topic, will_payload=b"x", will_qos=1))
        p = c.expect(raw.CONNACK)
        self.assertIn(p.rc, (4, 5))  # an MQTT user that does not exist
        self.assertEqual(self.harness.stats()["devices_refused"], 0)

    def test_empty_client_id_with_clean_0_only_for_devices(self):
        self.start()
        c = raw.Client(self.osapd.port("das"))
        self.addCleanup(c.close)
        c.send(raw.connect("", clean=False))
        self.assertEqual(c.expect(raw.CONNACK).rc, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Platform requests to devices through das_api.h (driven from das-harness):
attribute set, operation and shadow set reach the device on the spec's topics with
the spec's bodies and fresh Seq values from the platform's own space; the reply
completes the request exactly once (both reply shapes), a missing reply times out,
an offline device is not found, a device that disconnects fails its pending
requests, too many in flight are refused, and osapd_das_disconnect() closes the
device's connection."""

import json
import unittest

import dastest


class TestRequests(dastest.DasTestCase):

    settings = dict(dastest.DasTestCase.settings, das_device={"max_requests": 3})

    def test_round_trips(self):
        h = self.start()
        dev = self.online()

        rid = h.request("set", "LightCtrl", "Brightness", "70")
        down = dev.expect_downlink()
        p, common, body = down
        self.assertEqual(p.topic, "/iot/%s/global/0-global/model/attribute/set/LightCtrl/"
                                  "Brightness" % dastest.SN)
        self.assertEqual(p.qos, 1)
        self.assertEqual(body, '{"data":{"Value":70}}')
        self.assertEqual(common, {"Seq": 1001})
        dev.reply(down, "set_reply", '{"code":0}')
        self.assertEqual(h.result(rid), ("OK", 0, 1001, None))

        rid = h.request("operate", "PowerMgr", "Reboot", '{"delay": 5}', child="CHILD1",
                        resource="1-camera")
        down = dev.expect_downlink()
        self.assertEqual(down[0].topic, "/iot/%s/CHILD1/1-camera/model/service/operate/PowerMgr/"
                                        "Reboot" % dastest.SN)
        self.assertEqual(down[2], '{"data":{"delay":5}}')
        self.assertEqual(down[1], {"Seq": 1002})
        dev.reply(down, "operate_reply", '{"code":3,"data":{"left":[1,2]}}')
        self.assertEqual(h.result(rid), ("OK", 3, 1002, '{"left":[1,2]}'))

        rid = h.request("shadow", "LightCtrl", "Mode", '"night"')
        down = dev.expect_downlink()
        self.assertEqual(down[0].topic, "/iot/%s/global/0-global/basic/shadow/set" % dastest.SN)
        self.assertEqual(json.loads(down[2]), {"state": {"desired": {
            "domain": "LightCtrl", "identifier": "Mode", "value": "night"}}})
        dev.reply(down, "set_reply",
                  '{"method":"set_reply","payload":{"code":0},"timestamp":1795924459}', qos=0)
        self.assertEqual(h.result(rid), ("OK", 0, 1003, None))

        # The older model API's reply shape: code = status.
        rid = h.request("set", "LightCtrl", "Brightness", "1")
        down = dev.expect_downlink()
        dev.reply(down, "set_reply", '{"status":12,"code":"0x0000000c","errorMsg":"busy"}')
        self.assertEqual(h.result(rid)[:2], ("OK", 12))

        stats = h.stats()
        self.assertEqual((stats["requests"], stats["replies"]), (4, 4))

    def test_reply_must_match_seq_and_topic(self):
        h = self.start()
        dev = self.online()
        rid = h.request("set", "LightCtrl", "Brightness", "70", timeout_ms=1500)
        down = dev.expect_downlink()
        p, common, _ = down
        # Wrong Seq, the right Seq on another identifier or in another resource:
        # none of them completes it.
        dev.reply(down[:1] + ({"Seq": common["Seq"] + 1}, None), "set_reply", '{"code":0}')
        dev.reply_to(p.topic.replace("Brightness", "Contrast"), common["Seq"], "set_reply",
                     '{"code":0}')
        dev.reply_to(p.topic.replace("0-global", "1-global"), common["Seq"], "set_reply",
                     '{"code":0}')
        self.assertEqual(h.result(rid)[0], "ETIMEDOUT")
        self.assertEqual(h.stats()["unmatched_replies"], 3)
        # A reply after the time-out completes nothing (exactly once).
        dev.reply_to(p.topic, common["Seq"], "set_reply", '{"code":0}')
        self.assertEqual(h.stats()["unmatched_replies"], 4)

    def test_timeout_offline_disconnect_busy(self):
        h = self.start()
        # Offline: not connected to this DAS.
        self.assertEqual(h.result(h.request("set", "d", "k", "1"))[0], "ENOTFOUND")
        dev = self.online()
        # No reply: time-out after the request's own time.
        rid = h.request("set", "d", "k", "1", timeout_ms=300)
        dev.expect_downlink()
        self.assertEqual(h.result(rid)[0], "ETIMEDOUT")
        self.assertEqual(h.stats()["timeouts"], 1)
        # At most max_requests (3) in flight per device.
        rids = [h.request("operate", "d", "op%d" % i, "{}") for i in range(4)]
        self.assertEqual(h.result(rids[3])[0], "EBUSY")
        for _ in range(3):
            dev.expect_downlink()
        # The device goes away: its pending requests fail with ECLOSED at once.
        dev.close()
        for rid in rids[:3]:
            self.assertEqual(h.result(rid)[0], "ECLOSED")
        # Malformed requests are refused before anything is sent.
        h.command("request bad1 set %s - - d k 0 {not json" % dastest.SN)
        self.assertEqual(h.expect("error bad1"), "error bad1 EINVAL")
        h.command("request bad2 set %s - - d/x k 0 1" % dastest.SN)
        self.assertEqual(h.expect("error bad2"), "error bad2 EINVAL")
        h.command("request bad3 set %s - nodash d k 0 1" % dastest.SN)
        self.assertEqual(h.expect("error bad3"), "error bad3 EINVAL")

    def test_seq_continues_across_connections(self):
        h = self.start()
        dev = self.online()
        rid = h.request("set", "d", "k", "1")
        dev.reply(dev.expect_downlink(), "set_reply", '{"code":0}')
        self.assertEqual(h.result(rid)[2], 1001)
        dev.close()
        self.wait_for(lambda: not self.device_row()["online"], what="offline")
        dev = self.device()  # CONNECT follows at once (connect_timeout)
        dev.register(full=False)
        rid = h.request("set", "d", "k", "2")
        down = dev.expect_downlink()
        self.assertEqual(down[1], {"Seq": 1002})
        dev.reply(down, "set_reply", '{"code":0}')
        self.assertEqual(h.result(rid)[2], 1002)

    def test_disconnect_closes_the_connection(self):
        h = self.start()
        dev = self.online()
        h.command("disconnect %s" % dastest.SN)
        self.assertEqual(h.expect("disconnect "), "disconnect %s OK" % dastest.SN)
        self.assertTrue(dev.closed())
        self.wait_for(lambda: not self.device_row()["online"], what="offline")
        # Blocked meanwhile: its next CONNECT is judged again.
        self.osapd.admin("device", "block", dastest.SN)
        self.device().register(expect_rc=10)


if __name__ == "__main__":
    unittest.main(verbosity=2)

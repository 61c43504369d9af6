"""What devices publish, through the DAS device layer: events stored exactly once
and acknowledged only once stored, attribute reports, shadow queries answered from
the desired table, the device topic rules (publish and subscribe), RETAIN ignored,
undecryptable payloads dropped and counted, v2 messages, and the $osap/ namespace
as a standard MQTT client (mosquitto_sub) receives it."""

import json
import os
import queue
import subprocess
import threading
import time
import unittest

import dastest
from dastest import raw

EVENT = "model/event/report/alarm/motion"


def event_body(uuid=None, level=1, when="2026-11-29T03:54:18.086+00:00"):
    basic = {"dateTime": when}
    if uuid:
        basic["UUID"] = uuid
    return json.dumps({"alarm": {"level": level, "text": "golden"}, "basic": basic},
                      separators=(",", ":"))


class TestEvents(dastest.DasTestCase):

    def test_acknowledged_once_stored_and_stored_once(self):
        h = self.start()
        h.command("listen")
        h.expect("listening")
        dev = self.online()
        body = event_body("8d2e90feeba811f18000ccc3405de671")
        pid, seq = dev.publish_v3(EVENT, body)
        dev.expect_puback(pid)
        # When the PUBACK arrives the event is already in the database.
        events = self.events()
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["uuid"], "8d2e90feeba811f18000ccc3405de671")
        self.assertEqual(events[0]["seq"], seq)
        self.assertEqual(events[0]["device_time"], 1795924458086)
        self.assertEqual(events[0]["level"], 1)
        self.assertEqual(json.loads(events[0]["payload"]), json.loads(body))
        self.assertEqual(h.expect("committed event"),
                         "committed event %s alarm motion %d" % (dastest.SN, events[0]["id"]))
        # The link breaks before the device saw the PUBACK: it publishes the same
        # message again after its light reconnection. Acknowledged, not stored again.
        dev.close()
        self.wait_for(lambda: not self.device_row()["online"], what="offline")
        dev = self.device()  # CONNECT follows at once (connect_timeout)
        dev.register(full=False)
        pid, _ = dev.publish_v3(EVENT, body, seq=seq, dup=True)
        dev.expect_puback(pid)
        self.assertEqual(len(self.events()), 1)
        # Listeners heard of it once: the next event they hear of is another one.
        pid, _ = dev.publish_v3(EVENT, event_body("another"))
        dev.expect_puback(pid)
        line = h.expect("committed event")
        self.assertNotEqual(line.split()[-1], str(events[0]["id"]))
        self.assertEqual(h.stats()["events"], 3)

    def test_events_without_uuid(self):
        self.start()
        dev = self.online()
        body = event_body(None)
        for _ in range(2):  # a repetition: same Seq, same device session
            pid, _ = dev.publish_v3(EVENT, body, seq=7)
            dev.expect_puback(pid)
        pid, _ = dev.publish_v3(EVENT, body, seq=8)
        dev.expect_puback(pid)
        self.assertEqual(sorted(e["seq"] for e in self.events()), [7, 8])
        # The device restarts (a full registration): its Seq starts again, and
        # Seq 7 is a new event.
        dev.send(raw.DISCONNECT_BYTES)
        self.assertTrue(dev.closed())
        dev = self.online()
        pid, _ = dev.publish_v3(EVENT, body, seq=7)
        dev.expect_puback(pid)
        self.assertEqual(sorted(e["seq"] for e in self.events()), [7, 7, 8])

    def test_event_fields_and_qos0(self):
        self.start()
        dev = self.online()
        body = json.dumps({"level": 3, "basic": {"dateTime": "2024-01-01T08:00:00.500+08:00",
                                                 "UUID": "u-1"}})
        dev.publish_v3(EVENT, body, qos=0, child="CHILD9", resource="2-camera")
        dev.ping()
        row = self.wait_for(lambda: self.events(), what="event stored")[0]
        self.assertEqual((row["child"], row["resource"]), ("CHILD9", "2-camera"))
        self.assertEqual(row["level"], 3)
        self.assertEqual(row["device_time"], 1704067200500)
        # A body that is not JSON is kept as a JSON string.
        dev.publish_v3("model/event/report/alarm/text", "plain text", qos=1)
        dev.expect(raw.PUBACK)
        texts = [e for e in self.events() if e["identifier"] == "text"]
        self.assertEqual(json.loads(texts[0]["payload"]), "plain text")


class TestAttributesAndShadow(dastest.DasTestCase):

    def test_reports_become_attributes(self):
        self.start()
        dev = self.online()
        pid, _ = dev.publish_v3("basic/shadow/report", json.dumps({
            "method": "report", "spv": 3, "state": {
                "reported": {"domain": "LightCtrl", "identifier": "Brightness", "value": 42},
                "version": 5}}))
        dev.expect_puback(pid)
        pid, _ = dev.publish_v3("model/attribute/report/PowerMgr/Battery",
                                '{"data":{"Value":{"level":80,"charging":true}}}',
                                resource="1-battery")
        dev.expect_puback(pid)
        attrs = self.wait_for(lambda: (lambda a: a if len(a) == 2 else None)(self.attributes()),
                              what="two attributes")
        self.assertEqual(attrs[0], {"child": "global", "resource": "0-global",
                                    "domain": "LightCtrl", "identifier": "Brightness",
                                    "value": "42", "version": 5})
        self.assertEqual(attrs[1]["resource"], "1-battery")
        self.assertEqual(json.loads(attrs[1]["value"]), {"level": 80, "charging": True})
        self.assertEqual(attrs[1]["version"], -1)

    def test_shadow_query_answered_from_desired_values(self):
        self.start()
        store = lambda *a: dastest.store(self.osapd.data_dir, "desired", dastest.SN, *a)  # noqa
        store("global", "0-global", "LightCtrl", "Brightness", "70")
        store("global", "0-global", "LightCtrl", "Mode", '"night"')
        store("global", "1-camera", "Video", "Bitrate", "2048")  # another resource
        dev = self.online()
        pid, seq = dev.publish_v3("basic/shadow/query", '{"method":"query","windowsize":16256}',
                                  seq=41)
        dev.expect_puback(pid)  # before the reply, as the reference server does
        p, common, body = dev.expect_downlink()
        self.assertEqual(p.topic, dev.v3_topic("basic/shadow/query_reply"))
        self.assertEqual((p.qos, p.retain), (0, False))
        self.assertEqual(common, {"Seq": 41})
        self.assertEqual(json.loads(body), {"code": 0, "state": {"desired": [
            {"domain": "LightCtrl", "identifier": "Brightness", "value": 70},
            {"domain": "LightCtrl", "identifier": "Mode", "value": "night"}]}})
        # The other resource, and a small window that leaves values out.
        pid, _ = dev.publish_v3("basic/shadow/query", '{"method":"query","windowsize":16256}',
                                resource="1-camera")
        dev.expect_puback(pid)
        self.assertEqual(json.loads(dev.expect_downlink()[2])["state"]["desired"],
                         [{"domain": "Video", "identifier": "Bitrate", "value": 2048}])
        pid, _ = dev.publish_v3("basic/shadow/query", '{"method":"query","windowsize":100}')
        dev.expect_puback(pid)
        self.assertEqual(len(json.loads(dev.expect_downlink()[2])["state"]["desired"]), 1)


class TestTopics(dastest.DasTestCase):

    def test_subscriptions_limited_to_own_topics(self):
        self.start()
        dev = self.device()
        dev.register()
        sn = dastest.SN
        for f, code in (("/iot/%s/#" % sn, 1), ("/%s/#" % sn, 1), ("/iot/%s/global/+/x" % sn, 1),
                        ("/iot/Q87654321/#" % (), 0x80), ("/Q87654321/#", 0x80), ("#", 0x80),
                        ("/iot/+/#", 0x80), ("$osap/#", 0x80), ("/%s" % sn, 0x80),
                        ("/1100/13381", 0x80)):
            with self.subTest(filter=f):
                self.assertEqual(dev.subscribe(dev.next_pid(), (f, 1)), [code])

    def test_publishes_outside_own_topics_are_dropped(self):
        h = self.start()
        other = "Q87654321"
        self.osapd.admin("device", "add", "--serial", other, "--code", "ABCDEF")
        dev = self.online()
        payload = dastest.seal(dastest.KEY_A, '{"Seq":1}', event_body("x1"))
        for topic in ("/iot/%s/global/0-global/%s" % (other, EVENT), "/other/topic",
                      "/iot/%s/global/0-global/model/event/report/a" % dastest.SN):
            dev.send(raw.publish(topic, payload, qos=1, pid=dev.next_pid()))
            dev.expect(raw.PUBACK)
        self.assertEqual(self.events(other), [])
        self.assertEqual(self.events(), [])
        self.assertEqual(h.stats()["refused"], 3)
        dev.ping()  # the connection stays up

    def test_undecryptable_payloads_are_dropped_and_counted(self):
        h = self.start()
        dev = self.online()
        topic = dev.v3_topic(EVENT)
        bad = [b"", b"x" * 15, dastest.seal(dastest.KEY_B, '{"Seq":1}', event_body("k")),
               dastest.seal(dastest.KEY_A, "not json", event_body("j")),
               dastest.seal(dastest.KEY_A, '{"Seq":-1}', event_body("s"))]
        for payload in bad:
            dev.send(raw.publish(topic, payload, qos=1, pid=dev.next_pid()))
            dev.expect(raw.PUBACK)
        self.assertEqual(h.stats()["undecryptable"], len(bad))
        self.assertEqual(self.events(), [])
        dev.ping()

    def test_retain_of_device_publishes_is_ignored(self):
        self.start()
        port = self.osapd.port("das")
        app = raw.connected(port, "watcher")
        self.addCleanup(app.close)
        self.assertEqual(app.subscribe(1, ("/iot/%s/#" % dastest.SN, 1)), [1])
        dev = self.online()
        pid, _ = dev.publish_v3("basic/shadow/report", json.dumps({"state": {"reported": {
            "domain": "d", "identifier": "k", "value": 1}, "version": 1}}), retain=True)
        dev.expect_puback(pid)
        app.nothing(0.5)  # device ciphertext is not routed to other clients
        late = raw.connected(port, "late")
        self.addCleanup(late.close)
        self.assertEqual(late.subscribe(1, ("/iot/%s/#" % dastest.SN, 1)), [1])
        late.nothing(0.5)  # and nothing was retained


class MosquittoSub:
    """mosquitto_sub on $osap/#, its "topic payload" lines in a queue."""

    def __init__(self, port, topic="$osap/#", client_id="sub"):
        # stdbuf: mosquitto_sub's output is a pipe here; have it flush every line.
        self.proc = subprocess.Popen(
            ["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-v", "-d",
             "-q", "1", "-i", client_id], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        self.lines = queue.Queue()
        self.subscribed = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.subscribed.wait(30):
            raise AssertionError("mosquitto_sub did not subscribe")

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("Client ") or line.startswith(" "):
                if "received SUBACK" in line:
                    self.subscribed.set()
                continue
            if line.startswith("$osap/"):
                topic, _, payload = line.partition(" ")
                self.lines.put((topic, json.loads(payload)))

    def next(self, topic_prefix, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                topic, msg = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("mosquitto_sub received nothing on %s" % topic_prefix)
            if topic.startswith(topic_prefix):
                return topic, msg

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class TestRepublish(dastest.DasTestCase):

    def test_mosquitto_sub_receives_the_osap_namespace(self):
        h = self.start()
        port = self.osapd.port("das")
        sub = MosquittoSub(port)
        self.addCleanup(sub.close)
        sn = dastest.SN
        dev = self.online()
        topic, msg = sub.next("$osap/%s/status" % sn)
        self.assertEqual((msg["serial"], msg["status"]), (sn, "online"))

        body = event_body("u-rep")
        pid, seq = dev.publish_v3(EVENT, body)
        dev.expect_puback(pid)
        topic, msg = sub.next("$osap/%s/event/" % sn)
        self.assertEqual(topic, "$osap/%s/event/alarm/motion" % sn)
        self.assertEqual({k: msg[k] for k in ("serial", "child", "resource", "domain",
                                               "identifier", "seq", "body_format")},
                         {"serial": sn, "child": "global", "resource": "0-global",
                          "domain": "alarm", "identifier": "motion", "seq": seq,
                          "body_format": "json"})
        self.assertEqual(msg["body"], json.loads(body))
        self.assertTrue(msg["time"].endswith("Z"))
        topic, msg = sub.next("$osap/%s/raw/" % sn)
        self.assertEqual(topic, "$osap/%s/raw/global/0-global/%s" % (sn, EVENT))
        self.assertEqual(msg["topic"], dev.v3_topic(EVENT))

        pid, _ = dev.publish_v3("basic/shadow/report", json.dumps({"state": {"reported": {
            "domain": "LightCtrl", "identifier": "Brightness", "value": 42}, "version": 2}}))
        dev.expect_puback(pid)
        topic, msg = sub.next("$osap/%s/attribute/" % sn)
        self.assertEqual(topic, "$osap/%s/attribute/LightCtrl/Brightness" % sn)
        self.assertEqual(msg["value"], 42)

        rid = h.request("shadow", "LightCtrl", "Mode", '"night"')
        down = dev.expect_downlink()
        dev.reply(down, "set_reply", '{"method":"set_reply","payload":{"code":0}}', qos=0)
        self.assertEqual(h.result(rid)[0], "OK")
        topic, msg = sub.next("$osap/%s/reply/" % sn)
        self.assertEqual(topic, "$osap/%s/reply/LightCtrl/Mode" % sn)
        self.assertEqual((msg["method"], msg["code"], msg["seq"]),
                         ("shadow/set_reply", 0, down[1]["Seq"]))

        dev.publish_v2(1100, 13381, "<Request><DevSerial>%s</DevSerial></Request>" % sn, seq=77)
        topic, msg = sub.next("$osap/%s/v2/" % sn)
        self.assertEqual(topic, "$osap/%s/v2/1100/13381" % sn)
        self.assertEqual((msg["domain"], msg["cmd"], msg["cmd_ver"], msg["msg_type"],
                          msg["seq"], msg["body_format"]), (1100, 13381, "v2.0.0", 1, 77, "text"))

        dev.send(raw.DISCONNECT_BYTES)
        topic, msg = sub.next("$osap/%s/status" % sn)
        self.assertEqual((msg["status"], msg["reason"]), ("offline", "disconnect"))
        # The status is retained: a new subscriber learns it at once.
        late = MosquittoSub(port, "$osap/%s/status" % sn, "late")
        self.addCleanup(late.close)
        self.assertEqual(late.next("$osap/%s/status" % sn)[1]["status"], "offline")

    def test_republish_can_be_turned_off(self):
        self.osapd.settings["das_device"] = {"republish": False}
        self.osapd.write_config()
        self.start()
        sub = MosquittoSub(self.osapd.port("das"))
        self.addCleanup(sub.close)
        dev = self.online()
        dev.publish_v3(EVENT, event_body("u-off"))
        dev.expect(raw.PUBACK)
        self.assertRaises(AssertionError, sub.next, "$osap/", 1.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

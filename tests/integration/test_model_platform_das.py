"""The DAS checks what a device sends against its thing model, through a live
osapd (das) and a scripted device (raw MQTT, payloads sealed with das-envelope):
events (QoS 1 and 0) and attribute reports (shadow and model channels) that do not
match are stored and acknowledged like the others, marked with the reason; the
device's own basic member is ignored; a body that is not JSON is marked as such;
values of a sub-device (a child topic) are not checked; a device without a model
is not checked; a SIGHUP that changes the model changes the checks of a device
that stays connected."""

import json
import os
import shutil
import signal
import time

import dastest

osaptest = dastest.osaptest
KEY = dastest.KEY_A
BASIC = {"dateTime": "2026-11-29T05:09:35.000+00:00", "UUID": "u-%d"}


class TestDasChecks(osaptest.OsapTestCase):
    services = ("das",)

    def setUp(self):
        super().setUp()
        self.models = os.path.join(self.tmp, "models")
        shutil.copytree(os.path.join(osaptest.src_dir(), "models"), self.models)
        self.osapd.settings["models"] = {"models_dir": self.models}
        self.osapd.write_config()
        self.n = 0
        self.uuid = 0

    def online(self, serial, model=None):
        self.n += 1
        devid = "DASCHECK%024d" % self.n
        args = ["device", "add", "--serial", serial, "--code", "ABCDEF"]
        if model:
            args += ["--model", model]
        self.osapd.admin(*args)
        dastest.store(self.osapd.data_dir, "session", serial, devid, KEY)
        d = dastest.Device(self.osapd.port("das"), KEY, serial)
        self.addCleanup(d.close)
        d.register(devid=devid)
        self.assertEqual(d.subscribe_standard(), [1, 1])
        return d

    def event(self, d, name, payload, child="global", qos=1, raw=None):
        """Publish an event; its key in the store: its UUID, or "raw" for a body
        that is not JSON (it has none)."""
        self.uuid += 1
        uuid = "u-%d" % self.uuid
        body = raw if raw is not None else json.dumps(dict(payload, basic=dict(BASIC, UUID=uuid)))
        pid, _ = d.publish_v3("model/event/report/Audio/" + name, body, qos=qos, child=child)
        if qos:
            d.expect_puback(pid)  # acknowledged: stored, whatever the model says
        return uuid if raw is None else "raw"

    def report(self, d, identifier, value, child="global", domain="Audio"):
        body = {"method": "report", "spv": 3, "state": {
            "reported": {"domain": domain, "identifier": identifier, "value": value},
            "version": 1}}
        pid, _ = d.publish_v3("basic/shadow/report", json.dumps(body), child=child)
        d.expect_puback(pid)

    def events(self, serial, count):
        return self.wait_for(lambda: (lambda rows: rows if len(rows) >= count else None)(
            dastest.store_json(self.osapd.data_dir, "events", serial)), "%d events" % count)

    def attribute(self, serial, identifier, child, value):
        def find():
            for a in dastest.store_json(self.osapd.data_dir, "attributes", serial):
                if (a["identifier"], a["child"], json.loads(a["value"])) == (identifier, child,
                                                                             value):
                    return a
            return None
        return self.wait_for(find, "attribute %s of %s = %r" % (identifier, child, value))

    def wait_for(self, fn, what, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            v = fn()
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError("%s not met within %.0fs" % (what, timeout))
            time.sleep(0.05)

    def test_events_and_reports(self):
        self.osapd.start()
        d = self.online("DC0001", model="ip_camera")
        marks = {}
        marks[self.event(d, "SoundDetected", {"level": 80})] = None
        marks[self.event(d, "SoundDetected", {"level": 131})] = \
            "payload.level: 131 is above the maximum 130"
        marks[self.event(d, "SoundDetected", {"level": 131}, qos=0)] = \
            "payload.level: 131 is above the maximum 130"
        marks[self.event(d, "SoundDetected", {"level": 10, "basic2": 1})] = \
            "payload.basic2: unknown member"
        marks[self.event(d, "Whistle", {})] = \
            "model ip_camera: domain 'Audio' has no event 'Whistle'"
        marks[self.event(d, "SoundDetected", None, raw='{"level": 80,')] = \
            "model ip_camera: the payload is not JSON"
        # A sub-device's event is not checked against the device's model.
        marks[self.event(d, "Whistle", {"level": 999}, child="SUB0001")] = None
        rows = self.events("DC0001", len(marks))
        self.assertEqual({r.get("uuid", "raw"): r.get("invalid") for r in rows}, marks)

        self.report(d, "MicGain", 150)
        self.assertEqual(self.attribute("DC0001", "MicGain", "global", 150)["invalid"],
                         "value: 150 is above the maximum 100")
        self.report(d, "MicGain", 50)
        self.assertNotIn("invalid", self.attribute("DC0001", "MicGain", "global", 50))
        self.report(d, "MicGain", 150, child="SUB0001")
        self.assertNotIn("invalid", self.attribute("DC0001", "MicGain", "SUB0001", 150))
        # The model channel's attribute report too.
        pid, _ = d.publish_v3("model/attribute/report/Audio/SpeakerVolume",
                              json.dumps({"data": {"Value": "loud"}}))
        d.expect_puback(pid)
        self.assertEqual(self.attribute("DC0001", "SpeakerVolume", "global", "loud")["invalid"],
                         "value: expected an integer, found a string")

    def test_device_without_a_model(self):
        self.osapd.start()
        d = self.online("DC0002")
        self.event(d, "Whistle", {"level": 999})
        self.report(d, "MicGain", 150)
        self.assertNotIn("invalid", self.events("DC0002", 1)[0])
        self.assertNotIn("invalid", self.attribute("DC0002", "MicGain", "global", 150))

    def test_reload_changes_the_checks_of_a_connected_device(self):
        self.osapd.start()
        d = self.online("DC0003", model="ip_camera")
        self.event(d, "SoundDetected", {"level": 131})
        path = os.path.join(self.models, "ip_camera.osm")
        with open(path) as f:
            text = f.read()
        old = "level: int range 0..130 unit \"dB\" required;"
        self.assertIn(old, text)
        with open(path, "w") as f:
            f.write(text.replace(old, "level: int range 0..140 unit \"dB\" required;"))
        since = len(self.osapd.log_text())
        self.osapd.send_signal(signal.SIGHUP)
        self.osapd.wait_log("models: reloaded:", since=since)
        self.event(d, "SoundDetected", {"level": 131})
        rows = sorted(self.events("DC0003", 2), key=lambda r: r["id"])
        self.assertEqual([r.get("invalid") for r in rows],
                         ["payload.level: 131 is above the maximum 130", None])


if __name__ == "__main__":
    osaptest.main()

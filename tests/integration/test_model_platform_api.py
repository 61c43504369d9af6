"""The thing model in the platform, through a live osapd (lbs, das, api) with the
tree's models/ and libosap-device devices: one provisioned with model ip_camera,
one whose model comes from its DevType ([models] map), one with no model.
Attribute sets and operation inputs that break the model are answered 400 with
the stable code and the field that is wrong (value, value[0].width, input.speed,
resource, domain, identifier) and never reach the device; valid ones are
delivered. Events and attribute reports that break the model are stored and
acknowledged all the same, marked with the reason (event JSON, the ?invalid=
filter, the live stream, attribute JSON, the ingest counter); a device without
a model is not checked."""

import json
import os
import time

import apitest

osaptest = apitest.osaptest

PROVISIONED = "MP0001"  # provisioned with model ip_camera
MAPPED = "MP0002"       # no model; its DevType CAM-X12 maps to ip_camera
NO_MODEL = "MP0003"     # DevType OTHER-1: not mapped


def key(payload):
    """An event payload without the basic member the device adds, as text."""
    return json.dumps({k: v for k, v in payload.items() if k != "basic"}, sort_keys=True)


class TestModelPlatform(apitest.ApiTestCase):
    settings = {"models": {"models_dir": os.path.join(osaptest.src_dir(), "models"),
                           "map": "CAM-X*:ip_camera, CAM-Y1:nvr"},
                "api": {"request_timeout": "5s"}}

    def setUp(self):
        super().setUp()
        self.provision(PROVISIONED, model="ip_camera")
        self.provision(MAPPED)
        self.provision(NO_MODEL)
        self.devs = {PROVISIONED: self.device(PROVISIONED, model="CS-C6N"),
                     MAPPED: self.device(MAPPED, model="CAM-X12"),
                     NO_MODEL: self.device(NO_MODEL, model="OTHER-1")}
        for serial, d in self.devs.items():
            d.wait_state("online", 30)
            self.wait_online(serial)
        row = self.api.get("/api/v1/devices/" + MAPPED).json
        self.assertEqual((row["model"], row["dev_type"]), ("CAM-X12", "CAM-X12"))
        row = self.api.get("/api/v1/devices/" + PROVISIONED).json
        self.assertEqual((row["model"], row["dev_type"]), ("ip_camera", "CS-C6N"))
        # The model each one is checked against, as the console finds it.
        rows = {d["serial"]: d["thing_model"]
                for d in self.api.get("/api/v1/devices?q=MP").json["items"]}
        self.assertEqual(rows, {PROVISIONED: "ip_camera", MAPPED: "ip_camera", NO_MODEL: None})
        self.assertEqual(self.api.get("/api/v1/devices/" + MAPPED).json["thing_model"],
                         "ip_camera")

    def checked(self):
        return ((PROVISIONED, self.devs[PROVISIONED]), (MAPPED, self.devs[MAPPED]))

    def assertNothingDelivered(self, d):
        d.pump(0.3)
        self.assertEqual(d.requests, [])

    def test_attribute_sets(self):
        video = "?resource=0-video"
        cases = [
            # path, value, code, field, message (part)
            ("Stream/MainBitrate" + video, "high", "model_validation", "value",
             "value: expected an integer"),
            ("Stream/MainBitrate" + video, 20000, "model_validation", "value",
             "value: 20000 is above the maximum 16384"),
            ("Stream/MainBitrate" + video, 255, "model_validation", "value",
             "value: 255 is below the minimum 256"),
            ("Stream/MainBitrate" + video, 1024.5, "model_validation", "value", "value:"),
            ("Image/Mirror" + video, "sideways", "model_validation", "value",
             '"sideways" is not one of'),
            ("MotionDetection/Regions" + video, [{"x": 1, "y": 2, "width": 0, "height": 5}],
             "model_validation", "value[0].width", "value[0].width: 0 is below the minimum 1"),
            ("MotionDetection/Regions" + video, [{"x": 1, "y": 2, "width": 1}],
             "model_validation", "value[0]", "missing required member 'height'"),
            ("Ptz/PanPosition" + video, 10, "attribute_not_writable", "identifier",
             "read-only"),
            ("DeviceInfo/Uptime", 10, "attribute_not_writable", "identifier", "read-only"),
            ("Stream/Nope" + video, 1, "model_unknown_member", "identifier",
             "domain 'Stream' has no attribute 'Nope'"),
            ("Nope/MainBitrate" + video, 1, "model_unknown_member", "domain",
             "resource 'video' has no domain 'Nope'"),
            ("Stream/MainBitrate", 1, "model_unknown_member", "domain",
             "resource 'global' has no domain 'Stream'"),
            ("Stream/MainBitrate?resource=1-video", 1, "model_unknown_member", "resource",
             "resource 'video' has no index 1"),
            ("Stream/MainBitrate?resource=0-radar", 1, "model_unknown_member", "resource",
             "unknown resource category 'radar'"),
        ]
        for serial, d in self.checked():
            for path, value, code, field, message in cases:
                with self.subTest(serial=serial, path=path, value=value):
                    r = self.api.put("/api/v1/devices/%s/attributes/%s" % (serial, path),
                                     {"value": value})
                    self.assertError(r, 400, code, field)
                    self.assertIn(message, r.json["error"]["message"])
            self.assertNothingDelivered(d)
            r = self.api.put("/api/v1/devices/%s/attributes/Stream/MainBitrate%s"
                             % (serial, video), {"value": 2048})
            self.assertEqual(r.status, 200, r)
            req = d.wait_request()
            self.assertEqual((req["resource"], req["domain"], req["identifier"], req["json"]),
                             ("0-video", "Stream", "MainBitrate", "2048"))
            r = self.api.put("/api/v1/devices/%s/attributes/Audio/MicGain" % serial,
                             {"value": 30})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(d.wait_request()["json"], "30")
        # A sub-device is not described by the model of the device in front of it:
        # the value is sent (this device has no sub-devices and leaves it unanswered).
        r = self.api.put("/api/v1/devices/%s/attributes/Stream/MainBitrate?child=SUB1&timeout=1"
                         % PROVISIONED, {"value": "high"})
        self.assertError(r, 504, "device_timeout")
        # Without a model the device decides.
        r = self.api.put("/api/v1/devices/%s/attributes/Stream/MainBitrate" % NO_MODEL,
                         {"value": "high"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.devs[NO_MODEL].wait_request()["json"], '"high"')

    def test_operation_inputs(self):
        video = "?resource=0-video"
        cases = [
            ("Ptz/Move" + video, {"input": {"direction": "sideways"}}, "model_validation",
             "input.direction", '"sideways" is not one of'),
            ("Ptz/Move" + video, {"input": {}}, "model_validation", "input",
             "missing required member 'direction'"),
            ("Ptz/Move" + video, {"input": {"direction": "up", "speed": 11}},
             "model_validation", "input.speed", "input.speed: 11 is above the maximum 10"),
            ("Ptz/Move" + video, {"input": {"direction": "up", "extra": 1}},
             "model_validation", "input.extra", "unknown member"),
            ("Ptz/Move" + video, {"input": "up"}, "model_validation", "input",
             "expected an object"),
            ("Image/Snapshot" + video, {"input": {"quality": 101}}, "model_validation",
             "input.quality", "101 is above the maximum 100"),
            ("Ptz/Fly" + video, {"input": {}}, "model_unknown_member", "identifier",
             "domain 'Ptz' has no operation 'Fly'"),
            ("Ptz/Move", {"input": {"direction": "up"}}, "model_unknown_member", "domain",
             "resource 'global' has no domain 'Ptz'"),
            ("Ptz/Move?resource=7-video", {"input": {"direction": "up"}},
             "model_unknown_member", "resource", "has no index 7"),
        ]
        for serial, d in self.checked():
            for path, body, code, field, message in cases:
                with self.subTest(serial=serial, path=path, body=body):
                    r = self.api.post("/api/v1/devices/%s/operations/%s" % (serial, path), body)
                    self.assertError(r, 400, code, field)
                    self.assertIn(message, r.json["error"]["message"])
            self.assertNothingDelivered(d)
            r = self.api.post("/api/v1/devices/%s/operations/Ptz/Move%s" % (serial, video),
                              {"input": {"direction": "up", "speed": 3}})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["output"], {"echo": {"direction": "up", "speed": 3}})
            self.assertEqual(d.wait_request()["identifier"], "Move")
            r = self.api.post("/api/v1/devices/%s/operations/Ptz/Stop%s" % (serial, video))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(d.wait_request()["json"], "{}")

    def test_events_and_reports_are_stored_and_marked(self):
        stream = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream?types=event",
                                   self.token)
        self.addCleanup(stream.close)
        self.assertEqual(stream.status, 200)
        time.sleep(0.3)
        bodies = [
            ("SoundDetected", {"level": 80}, None),
            ("SoundDetected", {"level": 140}, "payload.level: 140 is above the maximum 130"),
            ("SoundDetected", {"level": "loud"}, "payload.level: expected an integer"),
            ("SoundDetected", {}, "payload: missing required member 'level'"),
            ("SoundDetected", {"level": 10, "db": 3}, "payload.db: unknown member"),
            ("Whistle", {"level": 1}, "model ip_camera: domain 'Audio' has no event 'Whistle'"),
        ]
        for serial in (PROVISIONED, MAPPED, NO_MODEL):
            d = self.devs[serial]
            ids = [d.event("Audio", name, body) for name, body, _ in bodies]
            d.wait_acked(ids)  # every one is acknowledged (stored), valid or not
            items = self.api.get("/api/v1/devices/%s/events?limit=100" % serial).json["items"]
            self.assertEqual(len(items), len(bodies))
            got = {(e["identifier"], key(e["payload"])): e for e in items}
            for name, body, why in bodies:
                e = got[(name, key(body))]
                with self.subTest(serial=serial, name=name, body=body):
                    if why is None or serial == NO_MODEL:
                        self.assertIsNone(e["invalid"])
                    else:
                        self.assertIsNotNone(e["invalid"])
                        self.assertTrue(e["invalid"].startswith(why), e["invalid"])
            marked = self.api.get("/api/v1/devices/%s/events?invalid=true" % serial).json
            unmarked = self.api.get("/api/v1/devices/%s/events?invalid=false" % serial).json
            want = 0 if serial == NO_MODEL else len(bodies) - 1
            self.assertEqual(len(marked["items"]), want)
            self.assertEqual(len(unmarked["items"]), len(bodies) - want)
            self.assertTrue(all(e["invalid"] for e in marked["items"]))
            self.assertTrue(all(e["invalid"] is None for e in unmarked["items"]))
        every = self.api.get("/api/v1/events?invalid=yes&limit=100").json["items"]
        self.assertEqual(sorted({e["serial"] for e in every}), [PROVISIONED, MAPPED])
        self.assertError(self.api.get("/api/v1/events?invalid=maybe"), 400, "invalid_parameter",
                         "invalid")

        # The live stream carries the mark too.
        seen = {}
        deadline = time.monotonic() + 20
        while len(seen) < 3 * len(bodies) and time.monotonic() < deadline:
            ev = stream.next(pred=lambda e: e.get("event") == "event")
            seen[ev["json"]["id"]] = ev["json"]["invalid"]
        stored = {e["id"]: e["invalid"]
                  for e in self.api.get("/api/v1/events?limit=100").json["items"]}
        self.assertEqual(seen, stored)

        # Attribute reports: marked while the last value breaks the model.
        d = self.devs[PROVISIONED]
        d.attr("Audio", "MicGain", 150)
        a = self.wait_attribute(PROVISIONED, "MicGain", 150)
        self.assertEqual(a["invalid"], "value: 150 is above the maximum 100")
        d.attr("Audio", "MicGain", 50)
        a = self.wait_attribute(PROVISIONED, "MicGain", 50)
        self.assertIsNone(a["invalid"])
        self.devs[NO_MODEL].attr("Audio", "MicGain", 150)
        self.assertIsNone(self.wait_attribute(NO_MODEL, "MicGain", 150)["invalid"])

        stats = self.api.get("/api/v1/stats").json
        self.assertEqual(stats["ingest"]["invalid"], 2 * (len(bodies) - 1) + 1)

    def wait_attribute(self, serial, identifier, value, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            items = self.api.get("/api/v1/devices/%s/attributes" % serial).json["items"]
            for a in items:
                if a["identifier"] == identifier and a["value"] == value:
                    return a
            if time.monotonic() > deadline:
                raise AssertionError("%s: %s is not %r (%r)" % (serial, identifier, value, items))
            time.sleep(0.1)


if __name__ == "__main__":
    apitest.main()

"""Platform API, requests to devices through a live osapd (lbs, das, api) and
libosap-device devices: attribute sets and operations round trips (the device
receives the request, its code and output come back), thing-model checks that
name the field, time-outs (504), offline devices (409, the desired value kept
and delivered at the next shadow query), the asynchronous form polled through
/api/v1/requests/{id}, and blocking (the device is disconnected at once and
refused with CONNACK 10 afterwards)."""

import json
import os
import time

import apitest

MODEL = """\
model apitest version "1.0.0" "A device for the API tests.";

resource global {
    domain Light "A lamp." {
        attribute Brightness: int range 0..100 access rw default 50;
        attribute Mode: enum { day, night } access rw default day;
        attribute Temperature: number "Read-only.";
        operation Blink {
            input { times: int range 1..10 required; colour: string length 1..8; }
            output { done: bool required; }
        }
        operation Reset;
    }
}

resource video indexes 0..3 {
    domain Stream "Per channel." {
        attribute Bitrate: int range 256..16384 access rw;
    }
}
"""


class TestRequests(apitest.ApiTestCase):

    def setUp(self):
        super().setUp()

    def write_model(self):
        with open(os.path.join(self.models_dir, "apitest.osm"), "w") as f:
            f.write(MODEL)
        self.reload_models()

    def test_set_and_invoke_round_trips(self):
        self.write_model()
        d = self.online_device("RQ0001", model="apitest")

        r = self.api.put("/api/v1/devices/RQ0001/attributes/Light/Brightness", {"value": 70})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["code"], 0)
        req = d.wait_request()
        self.assertEqual(req["kind"], 1)  # model/attribute/set
        self.assertEqual((req["resource"], req["domain"], req["identifier"]),
                         ("0-global", "Light", "Brightness"))
        self.assertEqual(json.loads(req["json"]), 70)

        body = {"input": {"times": 3, "colour": "red"}}
        r = self.api.post("/api/v1/devices/RQ0001/operations/Light/Blink", body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["code"], 0)
        self.assertEqual(r.json["output"], {"echo": {"times": 3, "colour": "red"}})
        req = d.wait_request()
        self.assertEqual(req["kind"], 4)  # model/service/operate
        self.assertEqual(json.loads(req["json"]), {"times": 3, "colour": "red"})

        # No input: the device gets {}.
        r = self.api.post("/api/v1/devices/RQ0001/operations/Light/Reset")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["output"], {"echo": {}})
        self.assertEqual(json.loads(d.wait_request()["json"]), {})

        # Another resource (a channel), given as a query parameter.
        r = self.api.put("/api/v1/devices/RQ0001/attributes/Stream/Bitrate?resource=2-video",
                         {"value": 2048})
        self.assertEqual(r.status, 200, r)
        req = d.wait_request()
        self.assertEqual(req["resource"], "2-video")

        # The device's own code comes back as it is.
        d.reply("code:7")
        r = self.api.put("/api/v1/devices/RQ0001/attributes/Light/Mode", {"value": "night"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["code"], 7)
        r = self.api.post("/api/v1/devices/RQ0001/operations/Light/Blink", {"input": {"times": 1}})
        self.assertEqual(r.json["code"], 7)
        self.assertIsNone(r.json["output"])

    def test_model_checks_name_the_field(self):
        self.write_model()
        self.online_device("RQ0002", model="apitest")
        cases = [
            ("PUT", "/attributes/Light/Brightness", {"value": 101}, "model_validation", "value"),
            ("PUT", "/attributes/Light/Brightness", {"value": "high"}, "model_validation",
             "value"),
            ("PUT", "/attributes/Light/Mode", {"value": "dusk"}, "model_validation", "value"),
            ("PUT", "/attributes/Light/Temperature", {"value": 20}, "attribute_not_writable",
             "identifier"),
            ("PUT", "/attributes/Light/Nothing", {"value": 1}, "model_unknown_member",
             "identifier"),
            ("PUT", "/attributes/Stream/Bitrate?resource=9-video", {"value": 1000},
             "model_unknown_member", "resource"),
            ("POST", "/operations/Light/Blink", {"input": {"times": 11}}, "model_validation",
             "input.times"),
            ("POST", "/operations/Light/Blink", {"input": {}}, "model_validation", "input"),
            ("POST", "/operations/Light/Blink", {"input": {"times": 1, "colour": "ultraviolet"}},
             "model_validation", "input.colour"),
            ("POST", "/operations/Light/Blink", {"input": {"times": 1, "x": 1}},
             "model_validation", "input.x"),
            ("POST", "/operations/Light/Fly", {"input": {}}, "model_unknown_member",
             "identifier"),
        ]
        for method, path, body, code, field in cases:
            r = self.api.request(method, "/api/v1/devices/RQ0002" + path, body=body)
            self.assertError(r, 400, code, field)
        # Input problems that need no model.
        base = "/api/v1/devices/RQ0002"
        self.assertError(self.api.put(base + "/attributes/Light/Brightness", {}), 400,
                         "missing_field", "value")
        self.assertError(self.api.put(base + "/attributes/Light/Brightness",
                                      {"value": 1, "extra": 2}), 400, "unknown_field", "extra")
        self.assertError(self.api.put(base + "/attributes/Light/Brightness", raw=b"{\"value\":",
                                      content_type="application/json"), 400, "invalid_json")
        self.assertError(self.api.post(base + "/operations/Light/Blink", raw=b"[]",
                                       content_type="application/json"), 400, "invalid_json")
        self.assertError(self.api.put(base + "/attributes/" + "D" * 40 + "/X", {"value": 1}),
                         400, "invalid_parameter", "domain")
        self.assertError(self.api.put(base + "/attributes/Light/Brightness?resource=global",
                                      {"value": 1}), 400, "invalid_parameter", "resource")
        self.assertError(self.api.put(base + "/attributes/Light/Brightness?child=a/b",
                                      {"value": 1}), 400, "invalid_parameter", "child")
        for t in ("0", "-1", "abc", "100000", "nan"):
            self.assertError(self.api.post(base + "/operations/Light/Reset?timeout=" + t), 400,
                             "invalid_parameter", "timeout")
        self.assertError(self.api.post("/api/v1/devices/NOPE/operations/Light/Reset"), 404,
                         "device_not_found")
        # The compiled model is published for the console's forms.
        r = self.api.get("/api/v1/models/apitest")
        self.assertEqual(r.status, 200, r)
        doc = r.json
        self.assertEqual((doc["osapModel"], doc["name"]), (1, "apitest"))
        light = [d for res in doc["resources"] for d in res["domains"]
                 if d["identifier"] == "Light"][0]
        self.assertIn("Brightness", [a["identifier"] for a in light["attributes"]])
        for name in ("nope", "..%2Fapitest", ".apitest", "a%20b"):
            self.assertError(self.api.get("/api/v1/models/" + name), 404, "model_not_found")
        self.assertError(self.api.get("/api/v1/models/apitest", token=None), 401, "unauthorized")
        # A device without a model file: values are not checked (the device decides).
        self.online_device("RQ0003", model="unknownmodel")
        r = self.api.put("/api/v1/devices/RQ0003/attributes/Any/Thing", {"value": [1, 2]})
        self.assertEqual(r.status, 200, r)

    def test_timeout_and_async(self):
        d = self.online_device("RQ0004", reply="hang")
        t0 = time.monotonic()
        r = self.api.post("/api/v1/devices/RQ0004/operations/Light/Reset?timeout=0.5")
        elapsed = time.monotonic() - t0
        self.assertError(r, 504, "device_timeout")
        self.assertGreaterEqual(elapsed, 0.45)
        self.assertLess(elapsed, 5)
        d.wait_request()  # the device did get it
        r = self.api.put("/api/v1/devices/RQ0004/attributes/Light/Mode?timeout=0.3",
                         {"value": "night"})
        self.assertError(r, 504, "device_timeout")

        # Asynchronous: 202 at once, then poll.
        r = self.api.post("/api/v1/devices/RQ0004/operations/Light/Reset?async=1&timeout=0.5")
        self.assertEqual(r.status, 202, r)
        rid = r.json["request_id"]
        self.assertEqual(r.header("Location"), "/api/v1/requests/%d" % rid)
        self.assertEqual(self.api.get("/api/v1/requests/%d" % rid).json["status"], "pending")
        st = self.poll(rid, "pending")
        self.assertEqual(st["status"], "timeout")
        self.assertIsNone(st["code"])
        self.assertTrue(st["completed_at"])

        d.reply("echo")
        r = self.api.post("/api/v1/devices/RQ0004/operations/Light/Blink",
                          {"input": {"times": 2}}, headers={"Prefer": "respond-async"})
        self.assertEqual(r.status, 202, r)
        st = self.poll(r.json["request_id"], "pending")
        self.assertEqual(st["status"], "done")
        self.assertEqual(st["code"], 0)
        self.assertEqual(st["output"], {"echo": {"times": 2}})
        self.assertEqual(st["input"], {"times": 2})
        self.assertEqual((st["kind"], st["serial"], st["domain"], st["identifier"]),
                         ("operate", "RQ0004", "Light", "Blink"))
        self.assertIsInstance(st["seq"], int)

        r = self.api.put("/api/v1/devices/RQ0004/attributes/Light/Mode?async=true",
                         {"value": "day"})
        self.assertEqual(r.status, 202, r)
        st = self.poll(r.json["request_id"], "pending")
        self.assertEqual((st["status"], st["kind"], st["code"]), ("done", "attribute_set", 0))

    def poll(self, rid, while_status, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            r = self.api.get("/api/v1/requests/%d" % rid)
            self.assertEqual(r.status, 200, r)
            if r.json["status"] != while_status or time.monotonic() > deadline:
                return r.json
            time.sleep(0.1)

    def test_offline_keeps_desired(self):
        self.provision("RQ0005")
        r = self.api.put("/api/v1/devices/RQ0005/attributes/Light/Brightness", {"value": 33})
        err = self.assertError(r, 409, "device_offline")
        self.assertIn("desired", err["message"])
        self.assertEqual(r.json["desired"], {"stored": True, "version": 1})
        r = self.api.put("/api/v1/devices/RQ0005/attributes/Light/Brightness", {"value": 34})
        self.assertEqual(r.json["desired"]["version"], 2)
        self.assertError(self.api.post("/api/v1/devices/RQ0005/operations/Light/Reset"), 409,
                         "device_offline")
        r = self.api.post("/api/v1/devices/RQ0005/operations/Light/Reset?async=1")
        self.assertEqual(r.status, 202)
        self.assertEqual(self.poll(r.json["request_id"], "pending")["status"], "offline")
        attrs = self.api.get("/api/v1/devices/RQ0005/attributes").json
        self.assertEqual(attrs["items"], [])
        self.assertEqual(len(attrs["desired"]), 1)
        self.assertEqual(attrs["desired"][0]["value"], 34)
        self.assertEqual(attrs["desired"][0]["version"], 2)

        # The device comes online, reports its value, asks for its desired state
        # (basic/shadow/query) and gets the stored value.
        d = self.device("RQ0005", attrs=["Light.Brightness"])
        d.wait_state("online", 30)
        d.attr("Light", "Brightness", 10)
        req = d.wait_request(lambda q: q["kind"] == 3 and q["identifier"] == "Brightness")
        self.assertEqual(json.loads(req["json"]), 34)

        # Online, a set that the device answers leaves no desired value behind.
        self.wait_online("RQ0005")
        r = self.api.put("/api/v1/devices/RQ0005/attributes/Light/Brightness", {"value": 35})
        self.assertEqual(r.status, 200, r)
        deadline = time.monotonic() + 10
        while self.api.get("/api/v1/devices/RQ0005/attributes").json["desired"]:
            self.assertLess(time.monotonic(), deadline, "the desired value stayed")
            time.sleep(0.1)

    def test_reported_attributes(self):
        d = self.online_device("RQ0006")
        d.attr("Light", "Brightness", 42)
        d.attr("Light", "Mode", "night")
        deadline = time.monotonic() + 20
        while True:
            items = self.api.get("/api/v1/devices/RQ0006/attributes").json["items"]
            if len(items) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        got = {(a["domain"], a["identifier"]): a for a in items}
        self.assertEqual(got[("Light", "Brightness")]["value"], 42)
        self.assertEqual(got[("Light", "Mode")]["value"], "night")
        for a in items:
            self.assertEqual((a["child"], a["resource"]), ("global", "0-global"))
            self.assertIsInstance(a["version"], int)
            self.assertTrue(a["reported_at"].endswith("Z"))
        self.assertError(self.api.get("/api/v1/devices/NOPE/attributes"), 404,
                         "device_not_found")

    def test_block_disconnects_and_refuses(self):
        d = self.online_device("RQ0007")
        r = self.api.post("/api/v1/devices/RQ0007/block")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["blocked"])
        # Disconnected at once, then refused with CONNACK 10 (the SDK stops: blocked).
        d.wait_state("blocked", 30)
        self.assertIn("ECONNACK_BLOCKED", json.dumps(d.seen))
        self.wait_online("RQ0007", False)
        self.assertError(self.api.post("/api/v1/devices/RQ0007/operations/Light/Reset"), 409,
                         "device_blocked")
        # Unblocked, a restarted device comes back.
        self.assertFalse(self.api.post("/api/v1/devices/RQ0007/unblock").json["blocked"])
        d.kill()
        d2 = self.device("RQ0007")
        d2.wait_state("online", 60)
        self.wait_online("RQ0007", True)


if __name__ == "__main__":
    apitest.main()

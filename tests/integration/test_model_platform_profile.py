"""Thing-model profiles served to devices (wire spec 7.6) by a live osapd (das,
api): a scripted device (raw MQTT, payloads sealed with das-envelope) sends the
base-domain profile query 0x3870 and gets 0x3871 on /<sn>/1100/14449, echoing its
Seq as a response, with the url, expire, md5 and devSerial; it downloads
http://<url> without a token and the MD5 of the bytes matches, and the bytes are
the profile osap-modelc writes for the same model. The device's model is its
provisioned one, else the [models] map of its DevType (exact and prefix items);
a device without a model gets no answer. SIGHUP reloads models_dir: a new
version is answered and served, the old url is gone, and a file that no longer
compiles keeps the version loaded before."""

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess

import dastest

osaptest = dastest.osaptest
SN = "PRF000001"
KEY = dastest.KEY_A
QUERY = {"devSerial": SN, "pid": "CS-PRF", "version": "V1.2.0 build 201212",
         "profileVersion": "3.0", "requireSchema": True}


def devid(n):
    return "PROFILE%025d" % n


def registration(serial, dev_id, dev_type):
    return dastest.registration(serial, dev_id).replace('"DevType":"GOLDEN_MODEL"',
                                                        '"DevType":"%s"' % dev_type)


def compiled_profile(models, name, out):
    """The profile osap-modelc writes for models/NAME.osm (its trailing newline
    removed: a file ends with one, the served document does not)."""
    subprocess.run([osaptest.program("osap-modelc"), os.path.join(models, name + ".osm"),
                    "-o", out, "-I", models], check=True, timeout=60,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(out, name + ".profile.json"), "rb") as f:
        data = f.read()
    assert data.endswith(b"\n")
    return data[:-1]


class ProfileCase(osaptest.OsapTestCase):
    services = ("das", "api")
    advertise = ""

    def setUp(self):
        super().setUp()
        self.models = os.path.join(self.tmp, "models")
        shutil.copytree(os.path.join(osaptest.src_dir(), "models"), self.models)
        s = self.osapd.settings
        s["models"] = {"models_dir": self.models, "map": "CAM-X*:radar, CAM-X9:nvr"}
        s.setdefault("api", {}).update({"web_root": "", "advertise": self.advertise})
        s.setdefault("das", {})["advertise"] = "127.0.0.1"
        self.osapd.write_config()
        self.n = 0

    def online(self, serial, model=None, dev_type="CS-PRF"):
        """Provision serial (with model), give it a session and register it."""
        self.n += 1
        args = ["device", "add", "--serial", serial, "--code", "ABCDEF"]
        if model:
            args += ["--model", model]
        self.osapd.admin(*args)
        dastest.store(self.osapd.data_dir, "session", serial, devid(self.n), KEY)
        d = dastest.Device(self.osapd.port("das"), KEY, serial)
        self.addCleanup(d.close)
        d.devid = devid(self.n)
        d.register(reg=registration(serial, d.devid, dev_type))
        self.assertEqual(d.subscribe_standard(), [1, 1])
        return d

    def query(self, d, body=None):
        """Send 0x3870; the 0x3871 answer's body (its topic, QoS and common JSON
        checked)."""
        body = dict(QUERY, devSerial=d.serial) if body is None else body
        text = body if isinstance(body, str) else json.dumps(body)
        seq = d.publish_v2(1100, 0x3870, text)
        p, common, answer = d.expect_downlink()
        self.assertEqual(p.topic, "/%s/1100/14449" % d.serial)
        self.assertEqual(p.qos, 0)
        self.assertEqual(common, {"CmdVer": "v2.0.0", "Seq": seq, "MsgType": 2})
        return json.loads(answer)

    def download(self, url, method="GET"):
        """GET http://<url> without a token: (status, headers, body)."""
        m = re.match(r"^([^/:]+):(\d+)(/.*)$", url)
        self.assertIsNotNone(m, url)
        conn = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=10)
        try:
            conn.request(method, m.group(3))
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def reload(self):
        since = len(self.osapd.log_text())
        self.osapd.send_signal(signal.SIGHUP)
        self.osapd.wait_log("models: reloaded:", since=since)


class TestProfiles(ProfileCase):

    def test_query_answer_and_download(self):
        self.osapd.start()
        api = self.osapd.port("api")
        d = self.online(SN, model="ip_camera")
        answer = self.query(d)
        self.assertEqual(sorted(answer), ["devSerial", "expire", "md5", "url"])
        self.assertEqual(answer["url"], "127.0.0.1:%d/api/v1/profiles/ip_camera/1.0.0.json" % api)
        self.assertEqual(answer["expire"], 3600)
        self.assertEqual(answer["devSerial"], SN)
        self.assertRegex(answer["md5"], r"^[0-9a-f]{32}$")

        status, headers, body = self.download(answer["url"])
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(hashlib.md5(body).hexdigest(), answer["md5"])
        self.assertEqual(headers["etag"], '"%s"' % answer["md5"])
        self.assertEqual(body, compiled_profile(self.models, "ip_camera",
                                                os.path.join(self.tmp, "out")))
        doc = json.loads(body)
        self.assertEqual(doc["version"], "1.0.0")
        self.assertIn("video", [r["resourceCategory"] for r in doc["resources"]])
        status, headers, body = self.download(answer["url"], "HEAD")
        self.assertEqual((status, body), (200, b""))

        # The device's devSerial is echoed; a query that is not JSON is still
        # answered for the device that sent it.
        self.assertEqual(self.query(d, dict(QUERY, devSerial="OTHER"))["devSerial"], "OTHER")
        self.assertEqual(self.query(d, "not json")["devSerial"], SN)

        # Other versions and models are not there; nothing else is public.
        for path, code in (("/api/v1/profiles/ip_camera/0.9.0.json", 404),
                           ("/api/v1/profiles/ip_camera/1.0.0", 404),
                           ("/api/v1/profiles/nope/1.0.0.json", 404),
                           ("/api/v1/models/ip_camera", 401)):
            status, _, body = self.download("127.0.0.1:%d%s" % (api, path))
            self.assertEqual(status, code, path)
            if code == 404:
                self.assertEqual(json.loads(body)["error"]["code"], "profile_not_found")

    def test_model_from_the_devtype_map(self):
        self.osapd.start()
        exact = self.online("PRF000002", dev_type="CAM-X9")    # CAM-X9:nvr
        prefix = self.online("PRF000003", dev_type="CAM-X12")  # CAM-X*:radar
        provisioned = self.online("PRF000004", model="access_control", dev_type="CAM-X9")
        self.assertIn("/api/v1/profiles/nvr/1.0.0.json", self.query(exact)["url"])
        self.assertIn("/api/v1/profiles/radar/1.0.0.json", self.query(prefix)["url"])
        self.assertIn("/api/v1/profiles/access_control/1.0.0.json",
                      self.query(provisioned)["url"])
        # A light registration carries no DevType: the one stored at the full
        # registration still decides, and the provisioned model still wins.
        for d, model in ((prefix, "radar"), (provisioned, "access_control")):
            d.close()
            light = dastest.Device(self.osapd.port("das"), KEY, d.serial)
            self.addCleanup(light.close)
            light.register(full=False, devid=d.devid)
            self.assertIn("/api/v1/profiles/%s/1.0.0.json" % model, self.query(light)["url"])

    def test_device_without_a_model_gets_no_answer(self):
        self.osapd.start()
        d = self.online("PRF000005", model="no_such_model", dev_type="OTHER-1")
        d.publish_v2(1100, 0x3870, json.dumps(dict(QUERY, devSerial="PRF000005")))
        d.nothing(1.5)
        self.osapd.wait_log("device PRF000005 asks for its thing-model profile (pid CS-PRF): "
                            "it has no thing model here, not answered")
        d.ping()  # still connected

    def test_sighup_reloads_models(self):
        self.osapd.start()
        d = self.online(SN, model="radar")
        old = self.query(d)
        self.assertTrue(old["url"].endswith("/radar/1.0.0.json"))
        path = os.path.join(self.models, "radar.osm")
        with open(path) as f:
            text = f.read()
        self.assertIn('model radar version "1.0.0"', text)
        with open(path, "w") as f:
            f.write(text.replace('model radar version "1.0.0"', 'model radar version "1.1.0"'))
        with open(os.path.join(self.models, "nvr.osm"), "a") as f:
            f.write("\nthis is not the model language\n")
        self.reload()
        self.osapd.wait_log("nvr.osm does not load")

        new = self.query(d)
        self.assertTrue(new["url"].endswith("/radar/1.1.0.json"), new)
        self.assertNotEqual(new["md5"], old["md5"])
        status, _, body = self.download(new["url"])
        self.assertEqual(status, 200)
        self.assertEqual(hashlib.md5(body).hexdigest(), new["md5"])
        self.assertEqual(json.loads(body)["version"], "1.1.0")
        self.assertEqual(self.download(old["url"])[0], 404)
        # nvr.osm no longer compiles: the version loaded before is still served.
        api = self.osapd.port("api")
        status, _, body = self.download("127.0.0.1:%d/api/v1/profiles/nvr/1.0.0.json" % api)
        self.assertEqual(status, 200)


class TestAdvertise(ProfileCase):
    advertise = "profiles.example:8088"

    def test_advertise_setting(self):
        self.osapd.start()
        d = self.online(SN, model="generic_sensor")
        self.assertEqual(self.query(d)["url"],
                         "profiles.example:8088/api/v1/profiles/generic_sensor/1.0.0.json")


class TestLightRightAfterFull(ProfileCase):
    """The DevType of a full registration reaches the store through ingest, which
    commits later (here: up to 1 s later); a light registration of the device in
    the meantime is still mapped by it."""

    def setUp(self):
        super().setUp()
        self.osapd.settings["ingest"] = {"batch_delay": "1s"}
        self.osapd.write_config()

    def test_light_registration_before_ingest_stored_the_devtype(self):
        self.osapd.start()
        d = self.online("PRF000006", dev_type="CAM-X12")  # CAM-X*:radar
        d.close()
        light = dastest.Device(self.osapd.port("das"), KEY, d.serial)
        self.addCleanup(light.close)
        light.register(full=False, devid=d.devid)
        self.assertIn("/api/v1/profiles/radar/1.0.0.json", self.query(light)["url"])


if __name__ == "__main__":
    osaptest.main()

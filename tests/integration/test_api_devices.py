"""Platform API, devices and the HTTP contract: provisioning, reads, edits,
removal, filters and cursor pagination, licence serials with ':' in paths,
bearer tokens (none, bad, revoked), and bad input of every kind answered with
the right 4xx and a JSON error, never a 500."""

import json
import socket

import apitest
from apitest import quote


class TestDevices(apitest.ApiTestCase):
    services = ("api",)

    def test_create_read_update_delete(self):
        r = self.api.post("/api/v1/devices",
                          {"serial": "Q100000001", "code": "ABCDEF", "model": "ip_camera",
                           "name": "Front door"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("Location"), "/api/v1/devices/Q100000001")
        dev = r.json
        self.assertEqual(dev["serial"], "Q100000001")
        self.assertEqual(dev["name"], "Front door")
        self.assertEqual(dev["model"], "ip_camera")
        self.assertEqual(dev["dev_type"], "")  # no registration yet
        self.assertEqual(dev["auth_mode"], "code")
        self.assertFalse(dev["online"])
        self.assertFalse(dev["blocked"])
        self.assertIsNone(dev["last_seen"])
        self.assertFalse(dev["registered"])
        for key in ("firmware", "das_node", "address", "created_at"):
            self.assertIn(key, dev)
        # Never the secret, nor any key.
        text = json.dumps(dev)
        self.assertNotIn("ABCDEF", text)
        for key in ("code", "secret", "licence", "master_key", "devid", "session_key"):
            self.assertNotIn(key, dev)

        r = self.api.get("/api/v1/devices/Q100000001")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, dev)

        # The same serial again: 409.
        r = self.api.post("/api/v1/devices", {"serial": "Q100000001", "code": "XYZ"})
        self.assertError(r, 409, "device_exists", "serial")

        r = self.api.patch("/api/v1/devices/Q100000001", {"name": "Garden", "code": "NEWCODE"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["name"], "Garden")
        self.assertEqual(r.json["model"], "ip_camera")
        # The code changed in the store (the admin command shows the registry).
        show = json.loads(self.osapd.admin("device", "show", "--json", "--secrets",
                                           "Q100000001").stdout)
        self.assertEqual(show["secret"], "NEWCODE")
        r = self.api.patch("/api/v1/devices/Q100000001", {"licence": "LIC"})
        self.assertError(r, 400, "invalid_field", "licence")
        r = self.api.patch("/api/v1/devices/Q100000001", {"model": "nvr"})
        self.assertEqual(r.json["model"], "nvr")
        self.assertEqual(r.json["name"], "Garden")

        r = self.api.delete("/api/v1/devices/Q100000001")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, b"")
        self.assertError(self.api.get("/api/v1/devices/Q100000001"), 404, "device_not_found")
        self.assertError(self.api.delete("/api/v1/devices/Q100000001"), 404, "device_not_found")
        self.assertError(self.api.patch("/api/v1/devices/Q100000001", {"name": "x"}), 404,
                         "device_not_found")

    def test_licence_serial_in_paths(self):
        r = self.api.post("/api/v1/devices",
                          {"serial": "pk01:door-7", "licence": "LICENCE-1", "name": "Door"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["auth_mode"], "licence")
        # ':' raw and percent-encoded name the same device.
        for path in ("/api/v1/devices/pk01:door-7", "/api/v1/devices/pk01%3Adoor-7",
                     "/api/v1/devices/pk01%3adoor-7"):
            r = self.api.get(path)
            self.assertEqual(r.status, 200, (path, r))
            self.assertEqual(r.json["serial"], "pk01:door-7")
        r = self.api.post("/api/v1/devices/pk01%3Adoor-7/block")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["blocked"])
        r = self.api.post("/api/v1/devices/pk01:door-7/unblock")
        self.assertFalse(r.json["blocked"])
        # A licence needs the productKey:deviceName form; a code must not have ':'.
        r = self.api.post("/api/v1/devices", {"serial": "plain", "licence": "L"})
        self.assertError(r, 400, "invalid_field", "serial")
        r = self.api.post("/api/v1/devices", {"serial": "a:b", "code": "C"})
        self.assertError(r, 400, "invalid_field", "serial")

    def test_list_filters_and_pages(self):
        for i in range(7):
            self.provision("L%03d" % i, model="ip_camera" if i % 2 else "nvr",
                           name="Camera %d" % i if i < 3 else "Door %d" % i)
        seen, cursor, pages = [], None, 0
        while True:
            path = "/api/v1/devices?limit=3" + ("&cursor=" + cursor if cursor else "")
            r = self.api.get(path)
            self.assertEqual(r.status, 200, r)
            page = r.json
            self.assertLessEqual(len(page["items"]), 3)
            seen += [d["serial"] for d in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, ["L%03d" % i for i in range(7)])
        self.assertEqual(pages, 3)

        r = self.api.get("/api/v1/devices?model=nvr")
        self.assertEqual([d["serial"] for d in r.json["items"]], ["L000", "L002", "L004", "L006"])
        r = self.api.get("/api/v1/devices?q=camera")  # name, case-insensitive
        self.assertEqual([d["serial"] for d in r.json["items"]], ["L000", "L001", "L002"])
        r = self.api.get("/api/v1/devices?q=l00")  # serial
        self.assertEqual(len(r.json["items"]), 7)
        r = self.api.get("/api/v1/devices?online=true")
        self.assertEqual(r.json["items"], [])
        self.assertIsNone(r.json["next_cursor"])
        r = self.api.get("/api/v1/devices?online=false&model=ip_camera&limit=2")
        self.assertEqual([d["serial"] for d in r.json["items"]], ["L001", "L003"])
        self.assertTrue(r.json["next_cursor"])

        # Bad parameters.
        self.assertError(self.api.get("/api/v1/devices?limit=0"), 400, "invalid_parameter",
                         "limit")
        self.assertError(self.api.get("/api/v1/devices?limit=100000000"), 400,
                         "invalid_parameter", "limit")
        self.assertError(self.api.get("/api/v1/devices?limit=abc"), 400, "invalid_parameter",
                         "limit")
        self.assertError(self.api.get("/api/v1/devices?online=maybe"), 400, "invalid_parameter",
                         "online")
        for bad in ("garbage!", "ZTox", "eDpMMDAx", "ZDo", ""):  # not ours / wrong kind
            self.assertError(self.api.get("/api/v1/devices?cursor=" + bad), 400,
                             "invalid_cursor", "cursor")
        # A NUL in the target is refused by the HTTP layer itself (plain 400).
        self.assertEqual(self.api.get("/api/v1/devices?cursor=%00").status, 400)

    def test_bad_input(self):
        p = "/api/v1/devices"
        cases = [
            (b"{", "invalid_json", None),
            (b"[1,2]", "invalid_json", None),
            (b"", "invalid_json", None),
            (b"\"text\"", "invalid_json", None),
            (b"{\"serial\":\"Q1\",\"code\":\"C\"} trailing", "invalid_json", None),
            (b"{\"serial\":\"Q1\",\"code\":\"C\"}\x00{}", "invalid_json", None),
            (json.dumps({"code": "C"}).encode(), "missing_field", "serial"),
            (json.dumps({"serial": "Q1"}).encode(), "missing_field", "code"),
            (json.dumps({"serial": 5, "code": "C"}).encode(), "invalid_field", "serial"),
            (json.dumps({"serial": "Q1", "code": 123456}).encode(), "invalid_field", "code"),
            (json.dumps({"serial": "Q1", "code": "C", "name": ["x"]}).encode(), "invalid_field",
             "name"),
            (json.dumps({"serial": "Q1", "code": "C", "name": "a\nb"}).encode(), "invalid_field",
             "name"),
            (json.dumps({"serial": "Q1", "code": "C", "model": "m" * 64}).encode(),
             "invalid_field", "model"),
            (json.dumps({"serial": "Q1", "code": "C", "colour": "red"}).encode(),
             "unknown_field", "colour"),
            (json.dumps({"serial": "Q/1", "code": "C"}).encode(), "invalid_field", "serial"),
            (json.dumps({"serial": "Q 1", "code": "C"}).encode(), "invalid_field", "serial"),
            (json.dumps({"serial": "Q" * 100, "code": "C"}).encode(), "invalid_field", "serial"),
            (json.dumps({"serial": "Q1", "code": "has space"}).encode(), "invalid_field", "code"),
            (json.dumps({"serial": "Q1", "code": "C", "licence": "L"}).encode(), "invalid_field",
             "licence"),
        ]
        for raw, code, field in cases:
            r = self.api.post(p, raw=raw, content_type="application/json")
            self.assertError(r, 400, code, field)
        # Nothing was created by any of them.
        self.assertEqual(self.api.get(p).json["items"], [])

        # A body over max_json_body: 413 with a JSON error; far over the HTTP
        # layer's ceiling: 413 from the layer before the body is read.
        r = self.api.post(p, raw=b"{\"serial\":\"" + b"Q" * 70000 + b"\"}",
                          content_type="application/json")
        self.assertError(r, 413, "payload_too_large")
        s = socket.create_connection(("127.0.0.1", self.osapd.port("api")), timeout=10)
        s.sendall(b"POST /api/v1/devices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + self.token.encode() + b"\r\nContent-Length: 100000000\r\n\r\n")
        head = s.recv(4096).decode()
        s.close()
        self.assertTrue(head.startswith("HTTP/1.1 413"), head)

        # Unknown ids and paths, wrong methods.
        self.assertError(self.api.get("/api/v1/devices/NOPE"), 404, "device_not_found")
        self.assertError(self.api.get("/api/v1/devices/" + quote("a/b")), 404, "device_not_found")
        self.assertError(self.api.get("/api/v1/nothing"), 404, "not_found")
        self.assertError(self.api.get("/api/v1/devices/X/nothing"), 404, "not_found")
        r = self.api.put("/api/v1/devices", {})
        self.assertError(r, 405, "method_not_allowed")
        self.assertIn("POST", r.header("Allow"))
        self.assertIn("GET", r.header("Allow"))
        r = self.api.post("/api/v1/devices/Q1")
        self.assertError(r, 405, "method_not_allowed")
        self.assertEqual(r.header("Allow"), "GET, HEAD, PATCH, DELETE")
        self.assertError(self.api.get("/api/v1/requests/0"), 404, "request_not_found")
        self.assertError(self.api.get("/api/v1/requests/abc"), 404, "request_not_found")
        self.assertError(self.api.get("/api/v1/requests/99999999999999999999999"), 404,
                         "request_not_found")
        # PATCH with bad bodies.
        self.provision("P1")
        self.assertError(self.api.patch("/api/v1/devices/P1", {"name": 3}), 400, "invalid_field",
                         "name")
        self.assertError(self.api.patch("/api/v1/devices/P1", {"serial": "P2"}), 400,
                         "unknown_field", "serial")
        self.assertError(self.api.patch("/api/v1/devices/P1", raw=b"nope",
                                        content_type="application/json"), 400, "invalid_json")
        # The server is still fine.
        self.assertEqual(self.api.get("/api/v1/health").status, 200)

    def test_tokens(self):
        p = "/api/v1/devices"
        r = self.api.get(p, token=None)
        self.assertError(r, 401, "unauthorized")
        self.assertTrue(r.header("WWW-Authenticate").startswith("Bearer"))
        r = self.api.get(p, token="osap_" + "A" * 43)
        self.assertError(r, 401, "unauthorized")
        r = self.api.get(p, headers={"Authorization": "Basic dXNlcjpwYXNz"}, token=None)
        self.assertError(r, 401, "unauthorized")
        r = self.api.get(p, headers={"Authorization": "Bearer"}, token=None)
        self.assertError(r, 401, "unauthorized")
        # Every route wants the token, whatever the body or id.
        for method, path in (("POST", p), ("GET", "/api/v1/devices/X"),
                             ("DELETE", "/api/v1/devices/X"), ("GET", "/api/v1/events"),
                             ("GET", "/api/v1/stats"), ("GET", "/api/v1/events/stream"),
                             ("POST", "/api/v1/pictures"), ("GET", "/api/v1/requests/1")):
            r = self.api.request(method, path, token=None)
            self.assertError(r, 401, "unauthorized")
        # Health needs none.
        r = self.api.get("/api/v1/health", token=None)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["status"], "ok")
        # A second token works; revoked, it does not.
        other = self.osapd.admin("token", "create", "--name", "other").stdout.strip()
        self.assertEqual(self.api.get(p, token=other).status, 200)
        self.osapd.admin("token", "revoke", "--name", "other")
        self.assertError(self.api.get(p, token=other), 401, "unauthorized")
        self.assertEqual(self.api.get(p).status, 200)

    def test_stats(self):
        self.provision("S1")
        self.provision("S2")
        self.api.post("/api/v1/devices/S2/block")
        r = self.api.get("/api/v1/stats")
        self.assertEqual(r.status, 200, r)
        st = r.json
        self.assertEqual(st["devices"], {"total": 2, "online": 0, "blocked": 1})
        self.assertIsNone(st["das"])  # no das in this process
        self.assertGreaterEqual(st["api"]["requests"], 3)


if __name__ == "__main__":
    apitest.main()

"""Platform API, its description and transport: GET /api/v1/openapi.json is
docs/openapi.json; every operation the document lists exists on the server
(answered 401 without a token; the public ones 200 or an answer they document,
never the router's 404/405); its references resolve. (Every route of the router
is in the document: tests/unit/osapd/test_api_routes.c.) Optional TLS with a
certificate and key; the web console's files served at /."""

import json
import os
import re
import ssl
import subprocess
import urllib.request

import apitest
import osaptest

METHODS = ("get", "post", "put", "patch", "delete")


def load_doc():
    with open(os.path.join(osaptest.src_dir(), "docs", "openapi.json"), "rb") as f:
        return f.read()


class TestOpenApi(apitest.ApiTestCase):
    services = ("api",)

    def test_served_document_is_the_tree_one(self):
        r = self.api.get("/api/v1/openapi.json", token=None)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertEqual(r.body, load_doc())
        etag = r.header("ETag")
        self.assertTrue(etag)
        r = self.api.get("/api/v1/openapi.json", token=None, headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)

    def test_every_documented_operation_exists(self):
        doc = json.loads(load_doc())
        self.assertTrue(doc["openapi"].startswith("3."))
        n = 0
        for path, item in doc["paths"].items():
            concrete = re.sub(r"\{sha256\}", "0" * 64, path)
            concrete = re.sub(r"\{id\}", "1", concrete)
            concrete = re.sub(r"\{[a-z]+\}", "X", concrete)
            for method in METHODS:
                if method not in item:
                    continue
                op = item[method]
                public = op.get("security") == []
                r = self.api.request(method.upper(), concrete, token=None)
                if public:
                    # 200, or an answer the route documents (the profile of a model
                    # that does not exist: 404), never the router's 404 or 405.
                    self.assertIn(str(r.status), op["responses"], (method, path, r))
                    if r.status != 200:
                        self.assertNotEqual(r.json["error"]["code"], "not_found")
                else:
                    self.assertError(r, 401, "unauthorized")
                n += 1
        self.assertGreaterEqual(n, 21)
        # And a path it does not list is not there.
        self.assertError(self.api.get("/api/v1/devices/X/nothing", token=None), 404, "not_found")

    def test_references_resolve(self):
        doc = json.loads(load_doc())

        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "$ref":
                        parts = v.lstrip("#/").split("/")
                        target = doc
                        for p in parts:
                            self.assertIn(p, target, v)
                            target = target[p]
                    else:
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(doc)
        # Every error code the document names is one the server can give, and
        # the other way round (api_internal.h lists them).
        codes = set(doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
                    ["code"]["enum"])
        with open(os.path.join(osaptest.src_dir(), "src", "osapd", "api",
                               "api_internal.h")) as f:
            server = set(re.findall(r'#define API_E_\w+\s+"(\w+)"', f.read()))
        self.assertEqual(codes, server)


class TestTlsAndConsole(apitest.ApiTestCase):
    services = ("api",)
    start = False

    def test_tls(self):
        cert = os.path.join(self.tmp, "cert.pem")
        key = os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.osapd.settings["api"].update({"tls_cert": cert, "tls_key": key})
        self.osapd.write_config()
        self.start_osapd()
        api = apitest.Api(self.osapd.port("api"), self.token, tls=True)
        self.assertEqual(api.get("/api/v1/health").status, 200)
        self.provision_tls(api)
        self.assertEqual(api.get("/api/v1/devices/T1").json["serial"], "T1")
        api.close()
        # Plain HTTP on the TLS port gets nowhere.
        with self.assertRaises(Exception):
            urllib.request.urlopen("http://127.0.0.1:%d/api/v1/health" % self.osapd.port("api"),
                                   timeout=5).read()
        # The certificate is the one configured.
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        with urllib.request.urlopen("https://127.0.0.1:%d/api/v1/health"
                                    % self.osapd.port("api"), context=ctx, timeout=10) as r:
            self.assertEqual(r.status, 200)

    def provision_tls(self, api):
        r = api.post("/api/v1/devices", {"serial": "T1", "code": "ABC"})
        self.assertEqual(r.status, 201, r)

    def test_tls_needs_both_files(self):
        self.osapd.settings["api"]["tls_cert"] = os.path.join(self.tmp, "cert.pem")
        self.osapd.write_config()
        self.osapd.start(wait=False)
        self.assertNotEqual(self.osapd.wait(timeout=15), 0)
        self.assertIn("tls_cert and tls_key", self.osapd.log_text())

    def test_console_files(self):
        web = os.path.join(self.tmp, "web")
        os.makedirs(os.path.join(web, "js"))
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>OSAP</title>")
        with open(os.path.join(web, "js", "app.js"), "w") as f:
            f.write("console.log('osap');")
        self.osapd.settings["api"]["web_root"] = web
        self.osapd.write_config()
        self.start_osapd()
        r = self.api.get("/", token=None)
        self.assertEqual(r.status, 200)
        self.assertIn(b"<title>OSAP</title>", r.body)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        r = self.api.get("/js/app.js", token=None)
        self.assertEqual(r.status, 200)
        self.assertIn("javascript", r.header("Content-Type"))
        self.assertEqual(self.api.get("/js/../../osapd.conf", token=None).status, 404)
        self.assertEqual(self.api.get("/missing.html", token=None).status, 404)
        self.assertError(self.api.post("/index.html", {}, token=None), 405, "method_not_allowed")


if __name__ == "__main__":
    apitest.main()

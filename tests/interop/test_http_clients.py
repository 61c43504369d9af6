"""The HTTP layer against real clients: curl and Python's http.client (plain HTTP).

Starts tests/interop/http_testd.c, drives it, and checks that it exits cleanly
(in the ASan build a leak makes the exit status non-zero)."""
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from http_testd import Server, raw


def curl(*args, data=None):
    return subprocess.run(["curl", "-sS", "--max-time", "20", *args], input=data,
                          capture_output=True, timeout=30)


class HttpClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="osap-http-")
        web = os.path.join(cls.tmp, "web")
        os.mkdir(web)
        with open(os.path.join(cls.tmp, "secret.txt"), "w") as f:
            f.write("top secret")
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>OSAP</title>")
        with open(os.path.join(web, "app.js"), "w") as f:
            f.write("console.log('osap')")
        cls.server = Server("--static", web, "--max-body", str(1 << 20))

    @classmethod
    def tearDownClass(cls):
        status = cls.server.stop()
        shutil.rmtree(cls.tmp)
        assert status == 0, "http-testd exit status %d" % status

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)

    def test_curl_keep_alive(self):
        r = curl("-v", self.server.url("/hello"), self.server.url("/hello?again=1"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"hellohello")
        self.assertIn(b"Re-using existing connection", r.stderr)

    def test_curl_chunked_upload(self):
        body = os.urandom(300000)
        r = curl("-T", "-", "-X", "POST", "-H", "Content-Type: application/octet-stream",
                 self.server.url("/echo/upload"), data=body)
        self.assertEqual(r.returncode, 0, r.stderr)
        echo = json.loads(r.stdout)
        self.assertEqual(echo["headers"].get("Transfer-Encoding"), "chunked")
        self.assertEqual(echo["body_len"], len(body))
        self.assertEqual(echo["body_sha256"], hashlib.sha256(body).hexdigest())

    def test_curl_multipart_upload(self):
        pic = os.urandom(200000)
        path = os.path.join(self.tmp, "snap.jpg")
        with open(path, "wb") as f:
            f.write(pic)
        r = curl("-F", "serial=DS-2CD2042", "-F", "picture=@%s;type=image/jpeg" % path,
                 self.server.url("/upload"))
        self.assertEqual(r.returncode, 0, r.stderr)
        parts = json.loads(r.stdout)["parts"]
        self.assertEqual(len(parts), 2)
        self.assertEqual(parts[0]["name"], "serial")
        self.assertEqual(parts[0]["len"], len("DS-2CD2042"))
        self.assertEqual(parts[1]["name"], "picture")
        self.assertEqual(parts[1]["filename"], "snap.jpg")
        self.assertEqual(parts[1]["content_type"], "image/jpeg")
        self.assertEqual(parts[1]["sha256"], hashlib.sha256(pic).hexdigest())

    def test_curl_expect_continue(self):
        body = b"x" * 5000
        r = curl("-v", "-H", "Expect: 100-continue", "--data-binary", "@-",
                 self.server.url("/echo"), data=body)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"HTTP/1.1 100 Continue", r.stderr)
        self.assertEqual(json.loads(r.stdout)["body_len"], len(body))

    def test_curl_body_too_large(self):
        body = b"y" * (2 << 20)
        # with Expect: refused before the body is sent; without: while it is sent, the
        # server lingers so curl still reads the 413 rather than a reset
        for expect in ("Expect: 100-continue", "Expect:"):
            r = curl("-o", "/dev/null", "-w", "%{http_code}", "-H", expect, "--data-binary",
                     "@-", self.server.url("/echo"), data=body)
            self.assertEqual(r.stdout, b"413", (expect, r.stderr))

    def test_http_client_keep_alive_and_head(self):
        c = self.conn()
        c.request("GET", "/hello")
        r = c.getresponse()
        self.assertEqual(r.read(), b"hello")
        sock = c.sock
        for i in range(10):
            c.request("POST", "/echo/%d?k=v%%20w" % i, body=b"abc",
                      headers={"X-Device": "DS-%d" % i})
            echo = json.loads(c.getresponse().read())
            self.assertEqual(echo["segments"], ["echo", str(i)])
            self.assertEqual(echo["params"], {"k": "v w"})
            self.assertEqual(echo["headers"]["X-Device"], "DS-%d" % i)
            self.assertEqual(echo["body_len"], 3)
        c.request("HEAD", "/hello")
        r = c.getresponse()
        self.assertEqual(r.getheader("Content-Length"), "5")
        self.assertEqual(r.read(), b"")
        c.request("GET", "/big?n=1000000")
        data = c.getresponse().read()
        self.assertEqual(data, bytes(i * 7 % 251 for i in range(1000000)))
        self.assertIs(c.sock, sock)  # one connection throughout
        c.close()

    def test_sse(self):
        c = self.conn()
        c.request("GET", "/sse?n=3&ms=20", headers={"Accept": "text/event-stream"})
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/event-stream")
        self.assertEqual(r.getheader("Cache-Control"), "no-cache")
        text = r.read().decode()
        events = [e for e in text.split("\n\n") if e]
        self.assertEqual(len(events), 3)
        for i, e in enumerate(events, 1):
            self.assertEqual(e, 'id: %d\nevent: tick\ndata: {"seq":%d}\ndata: second line'
                             % (i, i))
        c.close()

    def test_static_files(self):
        c = self.conn()
        c.request("GET", "/static/")
        r = c.getresponse()
        self.assertEqual(r.read(), b"<!doctype html><title>OSAP</title>")
        self.assertEqual(r.getheader("Content-Type"), "text/html; charset=utf-8")
        c.request("GET", "/static/app.js")
        r = c.getresponse()
        r.read()
        etag = r.getheader("ETag")
        self.assertEqual(r.getheader("Content-Type"), "text/javascript; charset=utf-8")
        c.request("GET", "/static/app.js", headers={"If-None-Match": etag})
        r = c.getresponse()
        self.assertEqual(r.status, 304)
        self.assertEqual(r.read(), b"")
        c.close()
        for path in ("/static/../secret.txt", "/static/%2e%2e/secret.txt",
                     "/static/..%2Fsecret.txt", "/static/%2E%2E%2Fsecret.txt"):
            r = curl("--path-as-is", "-w", "%{http_code}", self.server.url(path))
            self.assertTrue(r.stdout.endswith(b"404"), (path, r.stdout))
            self.assertNotIn(b"top secret", r.stdout)

    def test_pipelining_http10_and_garbage(self):
        out = raw(self.server.port,
                  b"GET /echo/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /defer?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /echo/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        first = out.find(b'"segments":["echo","1"]')
        second = out.find(b"deferred")
        third = out.find(b'"segments":["echo","3"]')
        self.assertTrue(0 < first < second < third, out)
        out = raw(self.server.port, b"GET /hello HTTP/1.0\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200 OK\r\n"), out)
        self.assertIn(b"Connection: close\r\n", out)
        self.assertTrue(out.endswith(b"\r\n\r\nhello"), out)
        out = raw(self.server.port, b"\x16\x03\x01\x00\x05hello\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400 Bad Request\r\n"), out)
        self.assertTrue(self.server.alive())


if __name__ == "__main__":
    unittest.main()

"""Platform API, limits before authentication: a request is routed, its token
looked at and its announced body checked against the route's ceiling when its
head is complete, before any body byte is read. A client without a valid token
cannot make osapd buffer a body (the answer comes before the body is sent, and
the server's memory does not grow when the body is pushed anyway); JSON routes
take small bodies only; Expect: 100-continue gets no 100 when refused; the
bodies buffered at once by all connections have a ceiling (503); slow heads and
slow bodies still time out (408). Driven over raw sockets, byte by byte where it
matters."""

import socket
import sys
import threading
import time

import apitest
import osaptest

MiB = 1024 * 1024


class Raw:
    """One client connection, hand-written requests, responses read as bytes."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection((osaptest.HOST, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def head(self, method, path, headers=(), token=None, host=True):
        lines = ["%s %s HTTP/1.1" % (method, path)]
        if host:
            lines.append("Host: %s" % osaptest.HOST)
        if token:
            lines.append("Authorization: Bearer " + token)
        lines += ["%s: %s" % kv for kv in headers]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the server closed the connection")
        self.buf += data

    def response(self):
        """(status, {lower-case name: value}, body) of the next response."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def closed(self):
        """Whether the server closes the connection (EOF or reset) in time."""
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def jpeg(n, seed=0):
    """n bytes that the Picture Service takes for a JPEG."""
    return b"\xff\xd8\xff\xe0" + bytes((seed + i) & 0xff for i in range(n - 4))


class TestPreAuthentication(apitest.ApiTestCase):
    """Default limits (picture_max_size 8 MiB, max_json_body 64 KiB)."""

    services = ("api",)

    def assertJsonError(self, status, headers, body, want_status, code):
        self.assertEqual(status, want_status, body)
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertIn(b'"code":"%s"' % code.encode(), body)

    def test_unauthenticated_upload_answered_before_its_body(self):
        port = self.osapd.port("api")
        pid = self.osapd.proc.pid
        # warm up: the allocator's arenas, the store threads
        for _ in range(3):
            self.assertEqual(self.api.get("/api/v1/health").status, 200)
        before = rss_kib(pid)
        n = 16
        clients = []
        for i in range(n):
            c = Raw(port)
            token = None if i % 2 == 0 else "osap_" + "x" * 40  # none, or unknown
            c.head("POST", "/api/v1/pictures", token=token,
                   headers=[("Content-Type", "image/jpeg"), ("Content-Length", str(8 * MiB))])
            clients.append(c)
        for c in clients:
            # the answer comes while the client has sent no body byte
            status, headers, body = c.response()
            self.assertJsonError(status, headers, body, 401, "unauthorized")
            self.assertEqual(headers.get("connection"), "close")
            self.assertTrue(headers.get("www-authenticate", "").startswith("Bearer"))

        # a client that pushes its 8 MiB anyway: read and thrown away, never kept
        def push(c):
            c.sock.settimeout(5)
            try:
                c.send(b"\xff" * (8 * MiB))
            except OSError:
                pass
        threads = [threading.Thread(target=push, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        after = rss_kib(pid)
        for c in clients:
            c.close()
        grown = after - before
        sys.stderr.write("osapd RSS: %d KiB before, %d KiB after %d refused 8 MiB uploads\n"
                         % (before, after, n))
        # buffered, the bodies would be n * 8 MiB = 128 MiB
        self.assertLess(grown, 16 * 1024, "osapd grew by %d KiB" % grown)
        r = self.api.get("/api/v1/stats")
        self.assertEqual(r.status, 200)

    def test_huge_content_length(self):
        c = Raw(self.osapd.port("api"))
        c.head("POST", "/api/v1/devices",
               headers=[("Content-Type", "application/json"), ("Content-Length", "100000000")])
        status, headers, body = c.response()
        self.assertJsonError(status, headers, body, 401, "unauthorized")
        self.assertEqual(headers.get("connection"), "close")
        self.assertTrue(c.closed())
        c.close()
        # the same with a token: over the picture ceiling
        c = Raw(self.osapd.port("api"))
        c.head("POST", "/api/v1/pictures", token=self.token,
               headers=[("Content-Length", "100000000")])
        status, headers, body = c.response()
        self.assertJsonError(status, headers, body, 413, "payload_too_large")
        self.assertIn(b"picture_max_size", body)
        self.assertEqual(headers.get("connection"), "close")
        c.close()

    def test_small_refused_body_keeps_the_connection(self):
        c = Raw(self.osapd.port("api"))
        body = b'{"serial": "Q00000001", "code": "ABCDEF"}'
        c.head("POST", "/api/v1/devices",
               headers=[("Content-Type", "application/json"),
                        ("Content-Length", str(len(body)))])
        c.send(body)
        status, headers, rbody = c.response()
        self.assertJsonError(status, headers, rbody, 401, "unauthorized")
        self.assertNotEqual(headers.get("connection"), "close")
        # the refused body was skipped: the next request on the connection works
        c.head("GET", "/api/v1/health")
        status, _, rbody = c.response()
        self.assertEqual(status, 200, rbody)
        # an unknown token: checked by the store before the body
        c.head("PUT", "/api/v1/devices/Q00000001/attributes/a/b", token="osap_unknown",
               headers=[("Content-Length", "11")])
        status, headers, rbody = c.response()
        self.assertJsonError(status, headers, rbody, 401, "unauthorized")
        self.assertIn("invalid_token", headers.get("www-authenticate", ""))
        c.send(b'{"value":1}')
        c.head("GET", "/api/v1/health")
        self.assertEqual(c.response()[0], 200)
        c.close()

    def test_routes_refused_before_the_body(self):
        c = Raw(self.osapd.port("api"))
        c.head("POST", "/api/v1/nothing", token=self.token,
               headers=[("Content-Length", str(4 * MiB))])
        status, headers, body = c.response()
        self.assertJsonError(status, headers, body, 404, "not_found")
        self.assertEqual(headers.get("connection"), "close")
        c.close()
        c = Raw(self.osapd.port("api"))
        c.head("PATCH", "/api/v1/pictures", headers=[("Content-Length", str(4 * MiB))])
        status, headers, body = c.response()
        self.assertJsonError(status, headers, body, 405, "method_not_allowed")
        self.assertEqual(headers.get("allow"), "POST, GET, HEAD")
        c.close()
        # the console takes no body
        c = Raw(self.osapd.port("api"))
        c.head("POST", "/index.html", headers=[("Content-Length", "10")])
        status, headers, body = c.response()
        self.assertJsonError(status, headers, body, 405, "method_not_allowed")
        c.close()

    def test_json_routes_take_small_bodies(self):
        port = self.osapd.port("api")
        # over max_json_body (64 KiB): 413 at once, with a valid token
        c = Raw(port)
        c.head("POST", "/api/v1/devices", token=self.token,
               headers=[("Content-Type", "application/json"), ("Content-Length", "65537")])
        status, headers, body = c.response()
        self.assertJsonError(status, headers, body, 413, "payload_too_large")
        self.assertIn(b"max_json_body", body)
        c.close()
        # the picture ceiling is not the JSON one
        c = Raw(port)
        c.head("PATCH", "/api/v1/devices/Q00000001", token=self.token,
               headers=[("Content-Length", str(MiB))])
        status, headers, body = c.response()
        self.assertJsonError(status, headers, body, 413, "payload_too_large")
        c.close()
        # exactly the ceiling passes the size check (and fails on its content)
        pad = 65536 - len(b'{"serial":"Q00000001","code":"ABCDEF","x":""}')
        big = b'{"serial":"Q00000001","code":"ABCDEF","x":"' + b"a" * pad + b'"}'
        self.assertEqual(len(big), 65536)
        r = self.api.post("/api/v1/devices", raw=big, content_type="application/json")
        self.assertError(r, 400, "unknown_field", "x")
        # a chunked JSON body that grows past the ceiling: 413 when it gets there
        c = Raw(port)
        c.head("POST", "/api/v1/devices", token=self.token,
               headers=[("Content-Type", "application/json"),
                        ("Transfer-Encoding", "chunked")])
        try:
            for _ in range(3):
                c.send(b"8000\r\n" + b" " * 0x8000 + b"\r\n")
        except OSError:
            pass
        status, headers, _ = c.response()
        self.assertEqual(status, 413)
        self.assertEqual(headers.get("connection"), "close")
        c.close()

    def test_expect_continue(self):
        port = self.osapd.port("api")
        for token in (None, "osap_" + "y" * 40):
            c = Raw(port)
            c.head("POST", "/api/v1/devices", token=token,
                   headers=[("Content-Type", "application/json"), ("Content-Length", "40"),
                            ("Expect", "100-continue")])
            status, headers, body = c.response()  # the first response: no 100
            self.assertJsonError(status, headers, body, 401, "unauthorized")
            self.assertEqual(headers.get("connection"), "close")
            self.assertTrue(c.closed())
            c.close()
        body = b'{"serial": "Q00000002", "code": "ABCDEF"}'
        c = Raw(port)
        c.head("POST", "/api/v1/devices", token=self.token,
               headers=[("Content-Type", "application/json"),
                        ("Content-Length", str(len(body))), ("Expect", "100-continue")])
        self.assertEqual(c.response()[0], 100)
        c.send(body)
        status, _, rbody = c.response()
        self.assertEqual(status, 201, rbody)
        c.close()


class TestUploadLimits(apitest.ApiTestCase):
    """Small limits to reach them: 256 KiB pictures, 640 KiB of bodies at once,
    1 s for a head and for a body."""

    services = ("api",)
    settings = {"api": {"picture_max_size": "256KiB", "max_body_buffer": "640KiB",
                        "header_timeout": "1s", "body_timeout": "1s"}}

    def test_upload_of_the_allowed_size(self):
        data = jpeg(256 * 1024, seed=1)
        r = self.api.post("/api/v1/pictures", raw=data, content_type="image/jpeg")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["size"], len(data))
        # one byte more: refused when the head arrives
        c = Raw(self.osapd.port("api"))
        c.head("POST", "/api/v1/pictures", token=self.token,
               headers=[("Content-Length", str(256 * 1024 + API_MULTIPART_SLACK + 1))])
        status, headers, body = c.response()
        self.assertEqual(status, 413, body)
        self.assertIn(b"picture_max_size", body)
        c.close()
        r = self.api.post("/api/v1/pictures", raw=jpeg(256 * 1024 + 1, seed=2),
                          content_type="image/jpeg")
        self.assertError(r, 413, "payload_too_large")
        # with 100-continue: the 100 comes once the token is known good
        data = jpeg(200 * 1024, seed=3)
        c = Raw(self.osapd.port("api"))
        c.head("POST", "/api/v1/pictures", token=self.token,
               headers=[("Content-Type", "image/jpeg"), ("Content-Length", str(len(data))),
                        ("Expect", "100-continue")])
        self.assertEqual(c.response()[0], 100)
        c.send(data)
        status, _, body = c.response()
        self.assertEqual(status, 201, body)
        c.close()

    def test_bodies_buffered_at_once(self):
        port = self.osapd.port("api")
        size = 250 * 1024  # reserved whole: two fit in 640 KiB, not three
        held = []
        for i in range(2):
            c = Raw(port)
            c.head("POST", "/api/v1/pictures", token=self.token,
                   headers=[("Content-Type", "image/jpeg"), ("Content-Length", str(size)),
                            ("Expect", "100-continue")])
            self.assertEqual(c.response()[0], 100)  # admitted: reserved whole
            held.append(c)
        # a third does not fit
        c = Raw(port)
        c.head("POST", "/api/v1/pictures", token=self.token,
               headers=[("Content-Type", "image/jpeg"), ("Content-Length", str(size)),
                        ("Expect", "100-continue")])
        status, headers, _ = c.response()
        self.assertEqual(status, 503)
        self.assertEqual(headers.get("retry-after"), "1")
        self.assertEqual(headers.get("connection"), "close")
        c.close()
        # the held ones finish, and the room is back
        for i, c in enumerate(held):
            c.send(jpeg(size, seed=10 + i))
            status, _, body = c.response()
            self.assertEqual(status, 201, body)
            c.close()
        r = self.api.post("/api/v1/pictures", raw=jpeg(size, seed=20), content_type="image/jpeg")
        self.assertEqual(r.status, 201, r)

    def test_slow_head_and_slow_body(self):
        port = self.osapd.port("api")
        # a head sent a byte at a time never finishes: 408 at header_timeout
        c = Raw(port)
        t0 = time.monotonic()
        head = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 100
        got = None
        for i in range(len(head)):
            try:
                c.send(head[i:i + 1])
            except OSError:
                break
            c.sock.settimeout(0.05)
            try:
                data = c.sock.recv(4096)
            except socket.timeout:
                continue
            got = data
            break
        c.sock.settimeout(5)
        self.assertIsNotNone(got)
        c.buf = got
        self.assertEqual(c.response()[0], 408)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        c.close()
        # an admitted body that stops arriving: 408 at body_timeout
        c = Raw(port)
        c.head("POST", "/api/v1/devices", token=self.token,
               headers=[("Content-Type", "application/json"), ("Content-Length", "100")])
        c.send(b'{"serial":')
        t0 = time.monotonic()
        status, headers, _ = c.response()
        self.assertEqual(status, 408)
        self.assertGreaterEqual(time.monotonic() - t0, 0.8)
        self.assertEqual(headers.get("connection"), "close")
        c.close()


API_MULTIPART_SLACK = 64 * 1024


if __name__ == "__main__":
    apitest.main()

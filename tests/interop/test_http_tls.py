"""The HTTP layer over TLS (OpenSSL 3, memory BIOs) against curl, Python's ssl and
openssl s_client, with a self-signed certificate made here by the openssl CLI."""
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from http_testd import Server


class HttpTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="osap-https-")
        cls.cert = os.path.join(cls.tmp, "cert.pem")
        cls.key = os.path.join(cls.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", cls.key, "-out", cls.cert],
                       check=True, capture_output=True)
        cls.server = Server("--tls-cert", cls.cert, "--tls-key", cls.key,
                            "--header-timeout", "1000", "--max-body", str(4 << 20))

    @classmethod
    def tearDownClass(cls):
        status = cls.server.stop()
        shutil.rmtree(cls.tmp)
        assert status == 0, "http-testd exit status %d" % status

    def context(self, maximum=None):
        ctx = ssl.create_default_context(cafile=self.cert)
        if maximum:
            ctx.maximum_version = maximum
        return ctx

    def conn(self, maximum=None):
        return http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=10,
                                           context=self.context(maximum))

    def test_curl(self):
        r = subprocess.run(["curl", "-sS", "-v", "--cacert", self.cert,
                            self.server.url("/hello", "https"),
                            self.server.url("/echo/x", "https")],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b"hello{"), r.stdout)
        self.assertTrue(json.loads(r.stdout[5:])["tls"])
        self.assertIn(b"TLSv1.3", r.stderr)
        self.assertIn(b"ALPN: server accepted http/1.1", r.stderr)
        self.assertIn(b"Re-using existing connection", r.stderr)

    def test_python_keep_alive_large_bodies(self):
        c = self.conn()
        up = os.urandom(3 << 20)
        c.request("POST", "/echo", body=up)
        echo = json.loads(c.getresponse().read())
        self.assertEqual(echo["body_len"], len(up))
        self.assertEqual(echo["body_sha256"], hashlib.sha256(up).hexdigest())
        sock = c.sock
        c.request("GET", "/big?n=3000000")
        self.assertEqual(c.getresponse().read(), bytes(i * 7 % 251 for i in range(3000000)))
        for _ in range(5):
            c.request("GET", "/hello")
            self.assertEqual(c.getresponse().read(), b"hello")
        self.assertIs(c.sock, sock)
        c.request("GET", "/sse?n=2&ms=10")
        self.assertEqual(c.getresponse().read().count(b"event: tick\n"), 2)
        c.close()

    def test_tls12(self):
        c = self.conn(ssl.TLSVersion.TLSv1_2)
        c.request("GET", "/hello")
        self.assertEqual(c.getresponse().read(), b"hello")
        self.assertEqual(c.sock.version(), "TLSv1.2")
        c.close()

    def test_tls11_refused(self):
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.server.port,
                            "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                           input=b"", capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"alert protocol version", r.stderr)  # the server's refusal
        self.assertIn(b"Cipher is (NONE)", r.stdout)
        self.assertTrue(self.server.alive())

    def test_plain_http_and_silence_on_tls_port(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        s.close()
        self.assertNotIn(b"hello", data)  # never answered in clear
        # a client that connects and says nothing is closed at the header timeout
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        t0 = time.monotonic()
        self.assertEqual(s.recv(10), b"")
        elapsed = time.monotonic() - t0
        s.close()
        self.assertTrue(0.8 < elapsed < 4, elapsed)
        self.assertTrue(self.server.alive())


if __name__ == "__main__":
    unittest.main()

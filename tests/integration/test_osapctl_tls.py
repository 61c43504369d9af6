"""osapctl over HTTPS: the platform's certificate is verified (with --cacert,
or the system's CAs), the host name or IP address must match, --insecure skips
verification; a failed verification is a connection failure (exit 3)."""

import os
import subprocess

import ctltest


def make_cert(directory, name, san):
    """A self-signed certificate and key (openssl req), subjectAltName san."""
    cert = os.path.join(directory, name + ".pem")
    key = os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=osap-test",
                    "-addext", "subjectAltName=" + san, "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class TestTls(ctltest.PlatformTestCase):

    def setUp(self):
        super().setUp()
        self.cert, key = make_cert(self.tmp, "api", "IP:127.0.0.1,DNS:localhost")
        self.other, _ = make_cert(self.tmp, "other", "IP:127.0.0.1")
        self.osapd.settings["api"].update({"tls_cert": self.cert, "tls_key": key})
        self.osapd.write_config()
        self.start_platform()
        self.url = "https://127.0.0.1:%d" % self.osapd.port("api")

    def test_verified(self):
        self.ctl("--cacert", self.cert, "device", "add", "TLS0001", "--code", "ABCDEF")
        doc = self.ctl_json("--cacert", self.cert, "device", "list")
        self.assertEqual([d["serial"] for d in doc["items"]], ["TLS0001"])
        # the host name is checked too
        self.ctl("--cacert", self.cert, "device", "list",
                 url="https://localhost:%d" % self.osapd.port("api"))

    def test_refused(self):
        r = self.ctl("device", "list", expect=3)  # not a CA the system trusts
        self.assertIn("certificate verification failed", r.err)
        r = self.ctl("--cacert", self.other, "device", "list", expect=3)
        self.assertIn("certificate verification failed", r.err)
        r = self.ctl("--cacert", os.path.join(self.tmp, "missing.pem"), "device", "list",
                     expect=3)
        self.assertIn("CA file", r.err)
        # plain HTTP to the TLS port: the response is not HTTP
        self.ctl("device", "list", url="http://127.0.0.1:%d" % self.osapd.port("api"),
                 expect=3)
        self.ctl("--insecure", "device", "list")


if __name__ == "__main__":
    ctltest.osaptest.main()

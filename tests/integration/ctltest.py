"""ctltest: helpers of the osapctl and web console tests.

PlatformTestCase starts an osapd with the lbs, das and api services (api
serving the console from the source tree's web/), creates an API token, and
offers osapctl runs and devices (tests/integration/api_device.c through
apitest.ApiDevice: libosap-device devices whose replies the test chooses:
echo, a code, or none at all). A small PNG generator gives real pictures to
upload.
"""

import json
import os
import struct
import subprocess
import sys
import unittest
import urllib.error
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apitest  # noqa: E402
import sdktest  # noqa: E402

osaptest = sdktest.osaptest


def png(width=4, height=3, rgb=(200, 40, 40)):
    """A valid PNG image of one colour."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def require_platform():
    """Skip when osapd lacks a service these tests need, or osapctl is not built."""
    osaptest.require_services(("lbs", "das", "api"))
    if not os.path.exists(osaptest.program("osapctl")):
        raise unittest.SkipTest("osapctl is not built")


class PlatformTestCase(osaptest.OsapTestCase):
    """osapd with lbs, das and api; self.token is a valid API token and
    self.url the platform's URL, once start_platform() ran."""

    services = ("lbs", "das", "api")
    settings = {"api": {"web_root": os.path.join(osaptest.src_dir(), "web"),
                        "request_timeout": "5s", "stream_heartbeat": "1s"},
                "models": {"models_dir": ""}}

    def setUp(self):
        require_platform()
        super().setUp()
        self.devices = []
        self.token = None
        self.url = "http://127.0.0.1:%d" % self.osapd.port("api")

    def tearDown(self):
        for d in self.devices:
            d.kill()
        super().tearDown()

    def start_platform(self):
        self.osapd.start()
        self.token = self.osapd.admin("token", "create", "--name", "tests").stdout.strip()
        return self.token

    # -- devices -------------------------------------------------------------

    def add_device(self, serial, code="ABCDEF", model="OSAP-SDK-TEST"):
        self.osapd.admin("device", "add", "--serial", serial, "--code", code, "--model", model)

    def device(self, serial, code="ABCDEF", **kw):
        """Start an api-device (it goes online by itself; it echoes operation
        inputs until told otherwise with .reply("code:N") or .reply("hang"))."""
        d = apitest.ApiDevice(self.osapd.port("lbs"), serial, code, **kw)
        self.devices.append(d)
        return d

    # -- osapctl ---------------------------------------------------------------

    def ctl(self, *args, expect=0, token=True, url=True, env=None, timeout=60, input=None):
        """Run osapctl ARGS with OSAP_URL / OSAP_TOKEN set (token/url False: unset,
        a string: that value). Checks the exit code (expect None: no check);
        returns the CompletedProcess (text)."""
        e = dict(os.environ)
        e.pop("OSAP_URL", None)
        e.pop("OSAP_TOKEN", None)
        if url:
            e["OSAP_URL"] = self.url if url is True else url
        if token:
            e["OSAP_TOKEN"] = self.token if token is True else token
        e.update(env or {})
        r = subprocess.run([osaptest.program("osapctl")] + [str(a) for a in args], env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           input=input)
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        r.out, r.err, r.raw = out, err, r.stdout
        if expect is not None and r.returncode != expect:
            raise AssertionError("osapctl %s: exit %d, expected %d\n--- stdout\n%s--- stderr\n%s"
                                 % (" ".join(str(a) for a in args), r.returncode, expect, out, err))
        if self.token and self.token in out + err:
            raise AssertionError("osapctl printed the token")
        return r

    def ctl_json(self, *args, **kw):
        """osapctl --json ARGS, parsed."""
        r = self.ctl("--json", *args, **kw)
        return json.loads(r.out)

    # -- the API directly --------------------------------------------------------

    def api(self, method, path, body=None, token=True):
        """(status, parsed JSON or None) of one request."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + (self.token if token is True else token))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read()
                return resp.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, None

    def wait_online(self, serial, online=True, timeout=30):
        """Wait until the registry shows the device online (or offline)."""
        import time
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, dev = self.api("GET", "/api/v1/devices/" + serial)
            if status == 200 and dev["online"] == online:
                return dev
            time.sleep(0.1)
        raise AssertionError("%s is not %s after %ds" % (serial, "online" if online else "offline",
                                                         timeout))

"""apitest: helpers of the platform API tests (test_api_*.py).

An ApiTestCase starts a real osapd (by default with the lbs, das and api
services), creates an API token with `osapd token create` and talks to the REST
API over real HTTP (http.client). ApiDevice runs tests/integration/api_device.c:
one libosap-device device whose answers to the server's requests the test
chooses (echo, a code, or none), reporting its state, the requests it receives
and the PUBACKs of its events as JSON lines.
"""

import http.client
import json
import os
import queue
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import osaptest  # noqa: E402


tests_dir = osaptest.tests_dir
built_services = osaptest.built_services


def quote(serial):
    """A serial as a path segment (':' stays: it is allowed in paths)."""
    return urllib.parse.quote(serial, safe=":")


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Api:
    """A client of one osapd's REST API (one keep-alive connection)."""

    def __init__(self, port, token=None, host=osaptest.HOST, tls=False):
        self.port = port
        self.host = host
        self.token = token
        self.tls = tls
        self.conn = None

    def _connect(self):
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(self.host, self.port, timeout=60, context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, token=True, raw=None,
                content_type=None):
        """Send a request; body (not None) is sent as JSON, raw as bytes.
        token: True = the client's token, None/False = none, str = that one."""
        hdrs = dict(headers or {})
        if token is True and self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        elif isinstance(token, str):
            hdrs["Authorization"] = "Bearer " + token
        data = None
        if raw is not None:
            data = raw
            if content_type:
                hdrs["Content-Type"] = content_type
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = content_type or "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                payload = r.read()
                resp = Response(r.status, r.getheaders(), payload)
                if r.will_close:
                    self.close()
                return resp
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class SseReader:
    """Reads a Server-Sent Events stream on a thread of its own."""

    def __init__(self, port, path, token, headers=None):
        self.sock = socket.create_connection((osaptest.HOST, port), timeout=60)
        hdrs = {"Host": "%s:%d" % (osaptest.HOST, port), "Accept": "text/event-stream",
                "Authorization": "Bearer " + token}
        hdrs.update(headers or {})
        req = "GET %s HTTP/1.1\r\n%s\r\n" % (
            path, "".join("%s: %s\r\n" % kv for kv in hdrs.items()))
        self.sock.sendall(req.encode())
        self.f = self.sock.makefile("rb")
        status = self.f.readline().decode()
        self.status = int(status.split()[1])
        self.headers = {}
        while True:
            line = self.f.readline().decode().rstrip("\r\n")
            if not line:
                break
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.events = queue.Queue()
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _lines(self):
        """Body lines, de-chunked."""
        chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        buf = b""
        while True:
            if chunked:
                size_line = self.f.readline()
                if not size_line:
                    return
                size = int(size_line.strip().split(b";")[0], 16)
                if size == 0:
                    return
                data = self.f.read(size)
                self.f.readline()
            else:
                data = self.f.read1(65536) if hasattr(self.f, "read1") else self.f.read(1)
                if not data:
                    return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield line.decode("utf-8").rstrip("\r")

    def _run(self):
        ev = {}
        try:
            if self.status != 200:
                return
            for line in self._lines():
                if line == "":
                    if "data" in ev or "event" in ev:
                        self.events.put(ev)
                    ev = {}
                elif line.startswith(":"):
                    continue
                else:
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    if k == "data" and "data" in ev:
                        ev["data"] += "\n" + v
                    else:
                        ev[k] = v
        except (OSError, ValueError):
            pass
        finally:
            self.ended.set()

    def next(self, timeout=30.0, pred=None, what="an event"):
        """The next event (dict with event, id, data parsed) matching pred."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("SSE: no %s within %.0fs" % (what, timeout))
            try:
                ev = self.events.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.ended.is_set() and self.events.empty():
                    raise AssertionError("SSE: the stream ended before %s" % what)
                continue
            if "data" in ev:
                try:
                    ev["json"] = json.loads(ev["data"])
                except ValueError:
                    pass
            if pred is None or pred(ev):
                return ev

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


# ---------------------------------------------------------------------------
# A device
# ---------------------------------------------------------------------------

class ApiDevice(osaptest.JsonLineDevice):
    """One api-device process (tests/integration/api_device.c)."""

    def __init__(self, lbs_port, serial, code, state_dir=None, licence=False, model=None,
                 reply=None, keepalive=None, attrs=()):
        cmd = self.command_line("api-device", lbs_port, serial, code, state_dir=state_dir,
                                licence=licence, keepalive=keepalive)
        if model:
            cmd += ["--model", model]
        if reply:
            cmd += ["--reply", reply]
        for a in attrs:
            cmd += ["--attr", a]
        super().__init__(cmd, serial)

    def wait_request(self, pred=None, timeout=30.0):
        for r in self.requests:
            if pred is None or pred(r):
                self.requests.remove(r)
                return r
        obj = self.wait_for(lambda o: "request" in o and (pred is None or pred(o["request"])),
                            timeout, "request")
        self.requests.remove(obj["request"])
        return obj["request"]

    def reply(self, mode):
        self.send("reply " + mode)
        self.wait_for(lambda o: o.get("reply") == mode or "error" in o, 10, "reply mode")

    def stop(self, timeout=20.0):
        if self.proc.poll() is None:
            try:
                self.send("stop")
            except (BrokenPipeError, OSError):
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._close()


# ---------------------------------------------------------------------------
# Test case
# ---------------------------------------------------------------------------

class ApiTestCase(osaptest.OsapTestCase):
    """An osapd with the api service (and by default lbs and das), a token in
    self.token and a client in self.api. Set start = False to start it yourself
    (self.start_osapd())."""

    services = ("lbs", "das", "api")
    settings = {}
    start = True

    @classmethod
    def api_settings(cls):
        return {}

    def setUp(self):
        osaptest.require_services(self.services)
        super().setUp()
        self.devices = []
        self.models_dir = os.path.join(self.tmp, "models")
        os.makedirs(self.models_dir, exist_ok=True)
        api = {"web_root": ""}
        api.update(self.settings.get("api", {}))
        self.osapd.settings.setdefault("api", {}).update(api)
        models = {"models_dir": self.models_dir}
        models.update(self.settings.get("models", {}))
        self.osapd.settings.setdefault("models", {}).update(models)
        self.osapd.write_config()
        r = self.osapd.admin("token", "create", "--name", "tests")
        self.token = r.stdout.strip()
        self.api = Api(self.osapd.port("api"), self.token)
        if self.start:
            self.start_osapd()

    def start_osapd(self, **kw):
        self.osapd.start(**kw)
        self.api.close()

    def tearDown(self):
        self.api.close()
        for d in self.devices:
            d.kill()
        super().tearDown()

    def reload_models(self):
        """SIGHUP: osapd loads models_dir again; returns once it logged the reload."""
        since = len(self.osapd.log_text())
        self.osapd.send_signal(signal.SIGHUP)
        self.osapd.wait_log("models: reloaded:", since=since)

    def device(self, serial, code="ABCDEF", **kw):
        d = ApiDevice(self.osapd.port("lbs"), serial, code, **kw)
        self.devices.append(d)
        return d

    def provision(self, serial, code="ABCDEF", model=None, name=None, licence=False):
        body = {"serial": serial}
        body["licence" if licence else "code"] = code
        if model:
            body["model"] = model
        if name:
            body["name"] = name
        r = self.api.post("/api/v1/devices", body)
        self.assertEqual(r.status, 201, r)
        return r.json

    def online_device(self, serial, code="ABCDEF", model=None, **kw):
        """Provision serial, start its device and wait until the API shows it online."""
        self.provision(serial, code, model=model)
        d = self.device(serial, code, model=model, **kw)
        d.wait_state("online", 30)
        self.wait_online(serial, True)
        return d

    def wait_online(self, serial, online=True, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            r = self.api.get("/api/v1/devices/" + quote(serial))
            if r.status == 200 and r.json["online"] == online:
                return r.json
            if time.monotonic() > deadline:
                raise AssertionError("%s: online is not %s (%r)" % (serial, online, r))
            time.sleep(0.1)

    def assertError(self, r, status, code, field=None):
        """r is the JSON error of the API: status, stable code, field."""
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/json", r)
        err = r.json["error"]
        self.assertEqual(err["code"], code, r)
        self.assertTrue(err["message"], r)
        if field is not None:
            self.assertEqual(err.get("field"), field, r)
        return err


def main():
    osaptest.main()

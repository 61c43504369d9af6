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
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import osaptest  # noqa: E402


def tests_dir():
    """Where the C helpers of the tests are built (OSAP_TESTS)."""
    return os.environ.get("OSAP_TESTS") or os.path.join(osaptest.src_dir(), "build", "tests")


def built_services():
    try:
        r = subprocess.run([osaptest.program("osapd"), "--list-services"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           timeout=30)
    except OSError:
        return set()
    return set(r.stdout.split())


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

class ApiDevice:
    """One api-device process (tests/integration/api_device.c)."""

    def __init__(self, lbs_port, serial, code, state_dir=None, licence=False, model=None,
                 reply=None, keepalive=None, attrs=()):
        self.serial = serial
        cmd = [os.path.join(tests_dir(), "api-device"), "--lbs", "127.0.0.1:%d" % lbs_port,
               "--serial", serial, "--code", code]
        if state_dir:
            cmd += ["--state-dir", state_dir]
        if licence:
            cmd.append("--licence")
        if model:
            cmd += ["--model", model]
        if reply:
            cmd += ["--reply", reply]
        if keepalive:
            cmd += ["--keepalive", str(keepalive)]
        for a in attrs:
            cmd += ["--attr", a]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.seen = []
        self.states = []
        self.acked = []
        self.requests = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                continue

    def _drain(self, timeout):
        try:
            obj = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        self.seen.append(obj)
        if "state" in obj:
            self.states.append(obj["state"])
        if "acked" in obj:
            self.acked.append(obj["acked"])
        if "request" in obj:
            self.requests.append(obj["request"])
        return obj

    def wait_for(self, pred, timeout=30.0, what="a line"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            obj = self._drain(min(0.2, max(0.0, deadline - time.monotonic())))
            if obj is not None and pred(obj):
                return obj
            if obj is None and self.proc.poll() is not None and self.lines.empty():
                break
        raise AssertionError("%s: no %s within %.0fs (seen: %s)"
                             % (self.serial, what, timeout, self.seen[-8:]))

    def wait_state(self, state, timeout=30.0):
        if self.states and self.states[-1] == state:
            return
        self.wait_for(lambda o: o.get("state") == state, timeout, "state %s" % state)

    def wait_request(self, pred=None, timeout=30.0):
        for r in self.requests:
            if pred is None or pred(r):
                self.requests.remove(r)
                return r
        obj = self.wait_for(lambda o: "request" in o and (pred is None or pred(o["request"])),
                            timeout, "request")
        self.requests.remove(obj["request"])
        return obj["request"]

    def pump(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._drain(min(0.2, end - time.monotonic()))

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def reply(self, mode):
        self.send("reply " + mode)
        self.wait_for(lambda o: o.get("reply") == mode or "error" in o, 10, "reply mode")

    def event(self, domain, identifier, body):
        self.send("event %s %s %s" % (domain, identifier, json.dumps(body, separators=(",", ":"))))
        obj = self.wait_for(lambda o: "raised" in o or "error" in o, 10, "raised")
        if "error" in obj:
            raise AssertionError("event refused: %s" % obj)
        return obj["raised"]

    def attr(self, domain, identifier, value):
        self.send("attr %s %s %s" % (domain, identifier, json.dumps(value)))
        self.wait_for(lambda o: "reported" in o or "error" in o, 10, "reported")

    def wait_acked(self, ids, timeout=60.0):
        want = set(ids)
        deadline = time.monotonic() + timeout
        while not want <= set(self.acked):
            if time.monotonic() > deadline:
                raise AssertionError("%s: events %s not acknowledged"
                                     % (self.serial, sorted(want - set(self.acked))))
            self._drain(0.2)

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

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._close()

    def _close(self):
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except (OSError, ValueError):
                pass


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
        missing = set(self.services) - built_services()
        if missing:
            raise unittest.SkipTest("osapd is built without " + ", ".join(sorted(missing)))
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

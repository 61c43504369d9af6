"""dastest: helpers of the DAS device-layer tests (test_das_device_*.py).

A DasTestCase runs das-harness (osapd's services plus a control channel for the
platform side of the DAS: das_api.h requests, ingest listeners) on a fresh data
directory, with sessions, devids and desired values written through the store
API by das-store-tool, and scripted devices that speak MQTT byte by byte
(tests/proto/das_mqtt_raw.py) and seal/open their payloads with das-envelope
(libosap's envelope code).
"""

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "proto"))
import osaptest  # noqa: E402
import das_mqtt_raw as raw  # noqa: E402

SN = "Q12345678"
DEVID = "GOLDEN0123456789ABCDEF0123456789"
KEY_A = "00112233445566778899aabbccddeeff"
KEY_B = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
WILL_PREFIX = "/Basic/pu2cenplt/"


tests_dir = osaptest.tests_dir
helper = osaptest.helper


def capture(name):
    with open(os.path.join(osaptest.data_dir(), "captures", name)) as f:
        return json.load(f)


def das_messages(cap):
    return [m for m in cap["messages"] if m["service"] == "das"]


# ---------------------------------------------------------------------------
# Device crypto (das-envelope)
# ---------------------------------------------------------------------------

def seal(key, common, body):
    """The payload of a device message: CBC-EZ(key, u16 len || common || body)."""
    r = subprocess.run([helper("das-envelope"), "seal", key, common, body],
                       stdout=subprocess.PIPE, check=True, text=True)
    return bytes.fromhex(r.stdout.strip())


def open_payload(key, payload):
    """(common JSON, body text) of a payload, or None when it does not open."""
    r = subprocess.run([helper("das-envelope"), "open", key, payload.hex()],
                       stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return None
    common, body = r.stdout.split("\n", 1)
    return common, body[:-1] if body.endswith("\n") else body


def cbc(key, text):
    r = subprocess.run([helper("das-envelope"), "cbc", key, text],
                       stdout=subprocess.PIPE, check=True, text=True)
    return bytes.fromhex(r.stdout.strip())


def registration(serial=SN, devid=DEVID, full=True):
    """The registration JSON of a device, as the SDK prints it."""
    if not full:
        return '{"SubSerial":"%s","DeviceID":"%s"}' % (serial, devid)
    return ('{"DevSerial":"","SubSerial":"%s","FirmwareVersion":"V1.2.0 build 201212",'
            '"DevType":"GOLDEN_MODEL","DevTypeDisplay":"IOT_UTEST_DEV","MAC":"","Status":1,'
            '"FirmwareIdentificationCode":"","LbsDomain":"127.0.0.1","RegMode":1,'
            '"SDKMainVersion":"","DeviceID":"%s","SDKVersion":{"1000":"V3.0.0","0":"","0":""}}'
            % (serial, devid))


def device_connect(key=KEY_A, serial=SN, devid=DEVID, full=True, username=None,
                   will_serial=None, will_kind=None, reg=None):
    """A device CONNECT packet: NUL-padded 128-byte will topic, the registration
    encrypted with key as the will message, password "test", empty client id."""
    kind = will_kind or ("firstconnect" if full else "breakconnect")
    topic = (WILL_PREFIX + (will_serial or serial) + "/" + kind).encode()
    topic = topic + b"\0" * (128 - len(topic))
    will = cbc(key, reg if reg is not None else registration(serial, devid, full))
    return raw.connect("", clean=full, keepalive=30, username=username or serial,
                       password="test", will_topic=topic, will_payload=will, will_qos=1,
                       will_retain=True)


class Device(raw.Client):
    """A scripted device on one TCP connection."""

    def __init__(self, port, key=KEY_A, serial=SN):
        super().__init__(port)
        self.key = key
        self.serial = serial
        self.seq = 0
        self.pid = 1

    def register(self, expect_rc=0, **kw):
        kw.setdefault("key", self.key)
        kw.setdefault("serial", self.serial)
        self.send(device_connect(**kw))
        p = self.expect(raw.CONNACK)
        if p.rc != expect_rc:
            raise AssertionError("CONNACK %d, expected %d" % (p.rc, expect_rc))
        return p

    def subscribe_standard(self):
        codes = self.subscribe(self.next_pid(), ("/iot/%s/#" % self.serial, 1))
        codes += self.subscribe(self.next_pid(), ("/%s/#" % self.serial, 1))
        return codes

    def next_pid(self):
        self.pid += 1
        return self.pid

    def next_seq(self):
        self.seq += 1
        return self.seq

    def v3_topic(self, rest, child="global", resource="0-global"):
        return "/iot/%s/%s/%s/%s" % (self.serial, child, resource, rest)

    def publish_v3(self, rest, body, qos=1, seq=None, retain=True, dup=False, pid=None,
                   **topic_kw):
        """Publish a sealed v3 message; returns (pid, seq)."""
        seq = self.next_seq() if seq is None else seq
        payload = seal(self.key, '{"Seq":%d}' % seq, body)
        pid = (pid or self.next_pid()) if qos else None
        self.send(raw.publish(self.v3_topic(rest, **topic_kw), payload, qos=qos, pid=pid,
                              retain=retain, dup=dup))
        return pid, seq

    def publish_v2(self, domain, cmd, body, seq=None, cmd_ver="v2.0.0", msg_type=1):
        seq = self.next_seq() if seq is None else seq
        common = '{"CmdVer":"%s","Seq":%d,"MsgType":%d}' % (cmd_ver, seq, msg_type)
        self.send(raw.publish("/%d/%d" % (domain, cmd), seal(self.key, common, body), qos=0,
                              retain=True))
        return seq

    def expect_puback(self, pid, timeout=30.0):
        p = self.expect(raw.PUBACK, timeout)
        if p.pid != pid:
            raise AssertionError("PUBACK %d, expected %d" % (p.pid, pid))

    def expect_downlink(self, timeout=30.0):
        """The next PUBLISH from the server: (packet, common, body)."""
        p = self.expect(raw.PUBLISH, timeout)
        opened = open_payload(self.key, p.payload)
        if opened is None:
            raise AssertionError("downlink on %s does not decrypt" % p.topic)
        return p, json.loads(opened[0]), opened[1]

    def reply(self, downlink, msg_type, body, qos=1):
        """Answer a downlink (PUBACK it first, as the device does)."""
        p, common, _ = downlink
        if p.qos == 1:
            self.send(raw.ack(raw.PUBACK, p.pid))
        self.reply_to(p.topic, common["Seq"], msg_type, body, qos)

    def reply_to(self, topic, seq, msg_type, body, qos=1):
        """Publish a reply to the request on topic: its msg_type replaced."""
        parts = topic.split("/")  # "", "iot", sn, child, resource, module, ...
        if parts[5] == "model":
            parts[7] = msg_type
        else:
            parts[-1] = msg_type
        payload = seal(self.key, '{"Seq":%d}' % seq, body)
        pid = self.next_pid() if qos else None
        self.send(raw.publish("/".join(parts), payload, qos=qos, pid=pid, retain=True))
        if qos:
            self.expect_puback(pid)


# ---------------------------------------------------------------------------
# The harness and the store
# ---------------------------------------------------------------------------

class Harness:
    """das-harness on an Osapd's configuration; reads its output on a thread."""

    def __init__(self, osapd):
        self.osapd = osapd
        self.log = open(os.path.join(osapd.workdir, "harness.log"), "ab")
        self.proc = subprocess.Popen([helper("das-harness"), "-c", osapd.config_path],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.backlog = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.expect("ready", timeout=20)
        osaptest.wait_port(osapd.port("das"))
        self.next_id = 0

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def command(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def expect(self, prefix, timeout=30.0):
        """The first output line starting with prefix (others are kept)."""
        for i, line in enumerate(self.backlog):
            if line.startswith(prefix):
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("harness printed no %r within %.1fs (other lines: %r)"
                                     % (prefix, timeout, self.backlog))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("harness exited before printing %r" % prefix)
            if line.startswith(prefix):
                return line
            self.backlog.append(line)

    def request(self, kind, domain, identifier, value="-", serial=SN, child="-",
                resource="-", timeout_ms=30000):
        """Send a platform request; returns its id (wait with result())."""
        self.next_id += 1
        rid = "r%d" % self.next_id
        self.command("request %s %s %s %s %s %s %s %d %s" % (
            rid, kind, serial, child, resource, domain, identifier, timeout_ms, value))
        return rid

    def result(self, rid, timeout=60.0):
        """(err, code, seq, output) of a request."""
        line = self.expect("result %s " % rid, timeout)
        _, _, err, code, seq, output = line.split(" ", 5)
        return err, int(code), int(seq), (None if output == "-" else output)

    def stats(self):
        self.command("stats")
        line = self.expect("stats ")
        return {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}

    def stop(self):
        """quit, and check it exits 0."""
        if self.proc.poll() is None:
            try:
                self.command("quit")
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("das-harness did not stop")
        self._close()
        return self.proc.returncode

    def _close(self):
        self.log.close()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except (OSError, ValueError):
                pass

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()


def store(data_dir, *args):
    """Run das-store-tool; returns its standard output (checks the exit code)."""
    r = subprocess.run([helper("das-store-tool"), data_dir] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("das-store-tool %s: %s" % (" ".join(map(str, args)), r.stderr))
    return r.stdout


def store_json(data_dir, *args):
    return [json.loads(line) for line in store(data_dir, *args).splitlines() if line]


class DasTestCase(osaptest.OsapTestCase):
    """A fresh data directory, das-harness running the das service, and device
    SN provisioned with session key KEY_A and devid DEVID."""

    services = ("das",)
    settings = {"das": {"allow_anonymous": True}, "osapd": {"log_level": "debug"}}

    def setUp(self):
        super().setUp()
        self.harness = None
        os.makedirs(self.osapd.data_dir, exist_ok=True)
        self.provision(SN, KEY_A)

    def tearDown(self):
        try:
            if self.harness is not None:
                rc = self.harness.stop()
                self.harness = None
                self.assertEqual(rc, 0, "das-harness exit status")
        finally:
            if self.harness is not None:
                self.harness.kill()
            path = os.path.join(self.osapd.workdir, "harness.log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    tail = "\n".join(f.read().splitlines()[-60:])
                self._saved_logs.append((path, tail))
            super().tearDown()

    def provision(self, serial, key, devid=DEVID, licence=False):
        flag = "--licence" if licence else "--code"
        self.osapd.admin("device", "add", "--serial", serial, flag, "ABCDEF")
        store(self.osapd.data_dir, "session", serial, devid, key)

    def start(self):
        self.harness = Harness(self.osapd)
        return self.harness

    def restart(self):
        self.assertEqual(self.harness.stop(), 0)
        self.harness = Harness(self.osapd)
        return self.harness

    def device(self, key=KEY_A, serial=SN):
        d = Device(self.osapd.port("das"), key, serial)
        self.addCleanup(d.close)
        return d

    def online(self, key=KEY_A, serial=SN):
        """A device that registered (full) and subscribed."""
        d = self.device(key, serial)
        d.register()
        self.assertEqual(d.subscribe_standard(), [1, 1])
        return d

    def events(self, serial=SN):
        return store_json(self.osapd.data_dir, "events", serial)

    def attributes(self, serial=SN):
        return store_json(self.osapd.data_dir, "attributes", serial)

    def device_row(self, serial=SN):
        return store_json(self.osapd.data_dir, "device", serial)[0]

    def wait_for(self, fn, timeout=30.0, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            v = fn()
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError("%s not met within %.1fs" % (what, timeout))
            time.sleep(0.05)


def main():
    osaptest.main()

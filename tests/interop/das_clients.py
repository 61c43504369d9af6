"""Helpers for the DAS interop tests: a paho-mqtt 1.6 client wrapper that records
what it receives, the mosquitto command-line clients, and the raw client of
tests/proto/das_mqtt_raw.py for what well-behaved libraries never do."""

import os
import queue
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "proto"))

import osaptest  # noqa: E402,F401
import das_mqtt_raw as raw  # noqa: E402,F401
import paho.mqtt.client as mqtt  # noqa: E402

HOST = "127.0.0.1"


class Paho:
    """A connected paho client (MQTT 3.1.1) running its network loop in a thread.
    Received messages queue up in self.messages."""

    def __init__(self, port, client_id="", clean=True, keepalive=60, username=None,
                 password=None, will=None, expect_rc=0, timeout=30.0):
        self.c = mqtt.Client(client_id=client_id, clean_session=clean,
                             protocol=mqtt.MQTTv311)
        self.messages = queue.Queue()
        self.connacks = queue.Queue()
        self.subacks = queue.Queue()
        self.unsubacks = queue.Queue()
        self.disconnects = queue.Queue()
        self.c.on_connect = lambda c, u, flags, rc: self.connacks.put(
            (flags.get("session present", 0), rc))
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_subscribe = lambda c, u, mid, granted: self.subacks.put((mid, granted))
        self.c.on_unsubscribe = lambda c, u, mid: self.unsubacks.put(mid)
        self.c.on_disconnect = lambda c, u, rc: self.disconnects.put(rc)
        if username is not None:
            self.c.username_pw_set(username, password)
        if will is not None:
            self.c.will_set(*will)
        self.c.connect(HOST, port, keepalive)
        self.c.loop_start()
        self.session_present, self.rc = self.connacks.get(timeout=timeout)
        if expect_rc is not None and self.rc != expect_rc:
            self.c.loop_stop()
            raise AssertionError("CONNACK %d, expected %d" % (self.rc, expect_rc))

    def subscribe(self, *filters, timeout=30.0):
        """filters: (filter, qos) pairs; returns the granted codes."""
        rc, mid = self.c.subscribe(list(filters))
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        got_mid, granted = self.subacks.get(timeout=timeout)
        assert got_mid == mid
        return list(granted)

    def unsubscribe(self, *filters, timeout=30.0):
        rc, mid = self.c.unsubscribe(list(filters))
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        assert self.unsubacks.get(timeout=timeout) == mid

    def publish(self, topic, payload, qos=0, retain=False, timeout=30.0):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(timeout)
        assert info.is_published(), "publish to %s not completed" % topic

    def get(self, timeout=30.0):
        """The next message received."""
        return self.messages.get(timeout=timeout)

    def drain(self, wait=0.5):
        """Every message received within wait seconds."""
        out = []
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            try:
                out.append(self.messages.get(timeout=left))
            except queue.Empty:
                return out

    def take(self, n, timeout=30.0, quiet=0.3):
        """Exactly n messages: waits for them (up to timeout in all, however long
        the server takes), then checks that nothing more arrives within quiet
        seconds."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            try:
                out.append(self.messages.get(timeout=max(left, 0.001)))
            except queue.Empty:
                raise AssertionError("%d of %d messages within %.1fs: %r"
                                     % (len(out), n, timeout,
                                        [(m.topic, m.payload) for m in out]))
        if quiet:
            self.nothing(quiet)
        return out

    def nothing(self, wait=0.5):
        got = self.drain(wait)
        assert not got, "unexpected messages: %r" % [(m.topic, m.payload) for m in got]

    def disconnected(self, timeout=30.0):
        """The rc of the next disconnection (raises queue.Empty if none)."""
        return self.disconnects.get(timeout=timeout)

    def stop(self):
        """DISCONNECT and stop the loop."""
        try:
            self.c.disconnect()
        finally:
            self.c.loop_stop()


class PahoTestCase(osaptest.OsapTestCase):
    """An osapd running the das service (settings from the subclass), started,
    its port in self.port; self.paho() connects a Paho client that is stopped
    after the test."""

    services = ("das",)

    def setUp(self):
        super().setUp()
        self.osapd.start()
        self.port = self.osapd.port("das")
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            try:
                c.stop()
            except Exception:
                pass
        super().tearDown()

    def paho(self, *args, **kw):
        c = Paho(self.port, *args, **kw)
        self.clients.append(c)
        return c


def mosquitto(tool, port, *args, timeout=15, input=None):
    """Run mosquitto_pub or mosquitto_sub; returns CompletedProcess (text)."""
    cmd = [tool, "-h", HOST, "-p", str(port), "-V", "mqttv311"] + [str(a) for a in args]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, input=input)


def mosquitto_sub_bg(port, *args):
    """Start mosquitto_sub in the background (stdout piped)."""
    cmd = ["mosquitto_sub", "-h", HOST, "-p", str(port), "-V", "mqttv311"] + [str(a) for a in args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


wait_until = osaptest.wait_until


def raw_publish_and_ack(port, topic, payload, qos=1, client_id="rawpub"):
    """Publish one message with a raw client and wait for the acknowledgement."""
    c = raw.connected(port, client_id)
    try:
        c.send(raw.publish(topic, payload, qos=qos, pid=1 if qos else None))
        if qos == 1:
            c.expect(raw.PUBACK)
        elif qos == 2:
            c.expect(raw.PUBREC)
            c.send(raw.ack(raw.PUBREL, 1))
            c.expect(raw.PUBCOMP)
        else:
            c.ping()
    finally:
        c.close()


def socket_closed_soon(sock, timeout):
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True

"""A raw MQTT 3.1.1 client for the DAS tests: builds packets byte by byte and reads
the server's packets back, so tests can send what well-behaved libraries never send
(bad flags, QoS 3, oversize lengths, unacknowledged messages) and check the exact
bytes of the answers.

Standard library only. Import it from a test with:

    sys.path.insert(0, os.path.join(HERE, "..", "proto"))   # from tests/interop
    import das_mqtt_raw as raw
"""

import socket
import struct
import time

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14


def remlen(n):
    """The MQTT remaining-length bytes of n."""
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            b |= 0x80
        out.append(b)
        if not n:
            return bytes(out)


def mstr(s):
    """A length-prefixed MQTT string (str or bytes)."""
    if isinstance(s, str):
        s = s.encode()
    return struct.pack(">H", len(s)) + s


def packet(first, body):
    return bytes([first]) + remlen(len(body)) + body


def connect(client_id="", clean=True, keepalive=60, username=None, password=None,
            will_topic=None, will_payload=b"", will_qos=0, will_retain=False,
            proto=b"MQTT", level=4, flags=None):
    f = 0
    if clean:
        f |= 0x02
    payload = mstr(client_id)
    if will_topic is not None:
        f |= 0x04 | (will_qos << 3) | (0x20 if will_retain else 0)
        payload += mstr(will_topic) + mstr(will_payload)
    if username is not None:
        f |= 0x80
        payload += mstr(username)
    if password is not None:
        f |= 0x40
        payload += mstr(password)
    if flags is not None:
        f = flags
    body = mstr(proto) + bytes([level, f]) + struct.pack(">H", keepalive) + payload
    return packet(0x10, body)


def publish(topic, payload=b"", qos=0, pid=None, retain=False, dup=False):
    if isinstance(payload, str):
        payload = payload.encode()
    first = 0x30 | (qos << 1) | (0x01 if retain else 0) | (0x08 if dup else 0)
    body = mstr(topic)
    if qos:
        body += struct.pack(">H", pid)
    return packet(first, body + payload)


def subscribe(pid, *filters):
    """filters: (filter, qos) pairs."""
    body = struct.pack(">H", pid)
    for f, q in filters:
        body += mstr(f) + bytes([q])
    return packet(0x82, body)


def unsubscribe(pid, *filters):
    body = struct.pack(">H", pid)
    for f in filters:
        body += mstr(f)
    return packet(0xA2, body)


def ack(ptype, pid):
    first = {PUBACK: 0x40, PUBREC: 0x50, PUBREL: 0x62, PUBCOMP: 0x70}[ptype]
    return bytes([first, 2]) + struct.pack(">H", pid)


PINGREQ_BYTES = b"\xc0\x00"
DISCONNECT_BYTES = b"\xe0\x00"


class Packet:
    """A packet read from the server: type, flags, body and the PUBLISH fields."""

    def __init__(self, first, body):
        self.raw_first = first
        self.type = first >> 4
        self.flags = first & 0x0F
        self.body = body
        if self.type == PUBLISH:
            self.qos = (self.flags >> 1) & 3
            self.dup = bool(self.flags & 0x08)
            self.retain = bool(self.flags & 0x01)
            tlen = struct.unpack(">H", body[:2])[0]
            self.topic = body[2:2 + tlen].decode()
            pos = 2 + tlen
            self.pid = None
            if self.qos:
                self.pid = struct.unpack(">H", body[pos:pos + 2])[0]
                pos += 2
            self.payload = body[pos:]
        elif self.type in (PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK):
            self.pid = struct.unpack(">H", body[:2])[0]
        elif self.type == SUBACK:
            self.pid = struct.unpack(">H", body[:2])[0]
            self.codes = list(body[2:])
        elif self.type == CONNACK:
            self.session_present = bool(body[0] & 1)
            self.rc = body[1]

    def __repr__(self):
        return "<Packet type=%d flags=%x body=%r>" % (self.type, self.flags, self.body[:40])


class Closed(Exception):
    """The server closed the connection."""


class Client:
    """One TCP connection to the DAS."""

    def __init__(self, port, host="127.0.0.1", timeout=30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf += data

    def recv(self, timeout=30.0):
        """The next packet; raises socket.timeout, or Closed at end of stream."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                n, mult, i = 0, 1, 1
                while i < len(self.buf) and i <= 4:
                    b = self.buf[i]
                    n += (b & 0x7F) * mult
                    mult *= 128
                    i += 1
                    if not b & 0x80:
                        if len(self.buf) >= i + n:
                            p = Packet(self.buf[0], self.buf[i:i + n])
                            self.buf = self.buf[i + n:]
                            return p
                        break
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no packet within %.1fs" % timeout)
            self._fill(left)

    def expect(self, ptype, timeout=30.0):
        p = self.recv(timeout)
        if p.type != ptype:
            raise AssertionError("expected packet type %d, got %r" % (ptype, p))
        return p

    def nothing(self, wait=0.3):
        """Assert that no packet arrives within wait seconds (and the link is up)."""
        try:
            p = self.recv(wait)
        except socket.timeout:
            return
        raise AssertionError("unexpected packet %r" % p)

    def closed(self, timeout=30.0):
        """True when the server closes the connection within timeout (packets
        received before the close are dropped)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.buf = b""
                self._fill(max(0.01, deadline - time.monotonic()))
        except Closed:
            return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return False

    def connect(self, client_id="", expect_rc=0, **kw):
        self.send(connect(client_id, **kw))
        p = self.expect(CONNACK)
        if p.rc != expect_rc:
            raise AssertionError("CONNACK %d, expected %d" % (p.rc, expect_rc))
        return p

    def subscribe(self, pid, *filters):
        self.send(subscribe(pid, *filters))
        p = self.expect(SUBACK)
        assert p.pid == pid, p
        return p.codes

    def ping(self):
        self.send(PINGREQ_BYTES)
        self.expect(PINGRESP)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connected(port, client_id, **kw):
    """A Client that completed CONNECT/CONNACK 0."""
    c = Client(port)
    c.connect(client_id, **kw)
    return c

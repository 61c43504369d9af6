"""lbstest: helpers of the LBS protocol tests (tests/proto/test_lbs_*.py).

The LBS harness (lbs-harness: the real service with fixed randomness, key, devid
and DAS) and the test device (lbs-device) are C programs built into $OSAP_TESTS;
raw-socket helpers talk LBS frames to a live server.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import osaptest  # noqa: E402

HOST = osaptest.HOST


helper = osaptest.helper


def captures():
    """The golden transcripts: [(name, parsed JSON)], in name order."""
    d = os.path.join(osaptest.data_dir(), "captures")
    out = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".json"):
            with open(os.path.join(d, name)) as f:
                out.append((name[:-5], json.load(f)))
    return out


# ---------------------------------------------------------------------------
# Raw connections
# ---------------------------------------------------------------------------

def connect(port, bind=None, timeout=10.0):
    """A TCP connection to the LBS, optionally from source address bind."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if bind:
        s.bind((bind, 0))
    s.connect((HOST, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n, timeout=10.0):
    """Exactly n bytes, or fewer when the peer closes first."""
    s.settimeout(timeout)
    buf = b""
    while len(buf) < n:
        try:
            chunk = s.recv(n - len(buf))
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
    return buf


def frame_length(buf):
    """Length of the LBS frame at the start of buf, or None when incomplete."""
    if len(buf) < 2:
        return None
    value, mult = 0, 1
    for i in range(1, min(len(buf), 5)):
        value += (buf[i] & 0x7F) * mult
        mult *= 128
        if not buf[i] & 0x80:
            return 1 + i + value
    return None


def recv_frame(s, timeout=10.0):
    """One whole LBS frame and nothing more (fewer bytes when the peer closes first)."""
    buf = b""
    while frame_length(buf) is None and len(buf) < 5:
        b = recv_exact(s, 1, timeout)
        if not b:
            return buf
        buf += b
    n = frame_length(buf)
    if n is None:
        return buf
    return buf + recv_exact(s, n - len(buf), timeout)


def closed_by_peer(s, timeout=5.0):
    """True when the peer closes (EOF or reset) within timeout with nothing more sent."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def error_answer(type_, result, old_header=False):
    """The exact bytes of an LBS error answer."""
    if type_ == 0x2:
        return bytes([0x2A, 0x05, 0x01, 0x01, 0x01, 0x00, result])
    byte0 = {0x6: 0x62, 0x8: 0x80 if old_header else 0x82, 0xB: 0xB0}[type_]
    return bytes([byte0, 0x04, 0x01, 0x01, 0x00, result])


# ---------------------------------------------------------------------------
# The test device
# ---------------------------------------------------------------------------

def run_device(port, serial, code, *args, timeout=60):
    """Run lbs-device; returns (exit status, [attempt dicts])."""
    cmd = [helper("lbs-device"), "--port", str(port), "--serial", serial, "--code", code]
    cmd += [str(a) for a in args]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise AssertionError("lbs-device printed nothing (exit %d)\n%s" % (r.returncode, r.stderr))
    return r.returncode, lines


# ---------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------

def db(data_dir):
    """A sqlite3 connection on osapd's database (WAL: safe while osapd runs)."""
    c = sqlite3.connect(os.path.join(data_dir, "osap.db"), timeout=10)
    c.row_factory = sqlite3.Row
    return c


def add_das_node(data_dir, node_id="das-1", address="127.0.0.1", port=1883, udp_port=0,
                 domain="das.test", connections=0, age_ms=0):
    """Insert or refresh a das_nodes row as a DAS heartbeat would."""
    now = int(time.time() * 1000) - age_ms
    with db(data_dir) as c:
        c.execute("INSERT INTO das_nodes (id, address, port, udp_port, domain, connections,"
                  " last_heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?)"
                  " ON CONFLICT (id) DO UPDATE SET address = excluded.address,"
                  " port = excluded.port, udp_port = excluded.udp_port,"
                  " domain = excluded.domain, connections = excluded.connections,"
                  " last_heartbeat = excluded.last_heartbeat",
                  (node_id, address, port, udp_port, domain, connections, now))


def remove_das_nodes(data_dir):
    with db(data_dir) as c:
        c.execute("DELETE FROM das_nodes")


def device_row(data_dir, serial):
    with db(data_dir) as c:
        return c.execute("SELECT * FROM devices WHERE serial = ?", (serial,)).fetchone()


def session_row(data_dir, serial):
    with db(data_dir) as c:
        return c.execute("SELECT * FROM sessions WHERE serial = ?", (serial,)).fetchone()


# ---------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------

class Harness:
    """lbs-harness in workdir: the LBS service with fixed values."""

    def __init__(self, workdir, args):
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "var")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(workdir, "harness.log")
        self._log = open(self.log_path, "ab")
        self.port = osaptest.free_port()
        cmd = [helper("lbs-harness"), "-d", self.data_dir, "--set", "lbs.port=%d" % self.port,
               "--set", "lbs.listen=%s" % HOST] + [str(a) for a in args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log,
                                     stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("port "):
            self.proc.wait(timeout=10)
            self._log.close()
            raise AssertionError("lbs-harness did not start (status %s)\n%s"
                                 % (self.proc.returncode, self.log_text()))
        if int(line.split()[1]) != self.port:
            raise AssertionError("lbs-harness listens on %s, not %d" % (line, self.port))

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM; returns the exit status (0 expected)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self._log.close()
        return self.proc.returncode

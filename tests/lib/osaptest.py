"""osaptest: what every OSAP script test needs to drive a real osapd.

Standard library only (Debian's /usr/bin/python3); paho-mqtt is there for the
tests that want it. Typical use:

    import os, sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import osaptest

    class TestSomething(osaptest.OsapTestCase):
        services = ("das",)                      # what osapd runs ([osapd] services)
        settings = {"das": {"allow_anonymous": True}}

        def test_it(self):
            self.osapd.admin("device", "add", "--serial", "Q1", "--code", "ABCDEF")
            self.osapd.start()                   # waits until its ports accept
            port = self.osapd.port("das")
            ...

    if __name__ == "__main__":
        osaptest.main()

Every test gets a fresh temporary directory (self.tmp) holding osapd.conf,
osapd.log (the daemon's standard output and error) and var/ (the data
directory). Free loopback ports are chosen for lbs, das and api. tearDown stops
a running osapd with SIGTERM and checks that it exits 0 (so leaks reported by
AddressSanitizer fail the test), and the tail of the log is printed when a test
fails. Set OSAP_KEEP_TMP=1 to keep the directories.

Environment (set by CTest): OSAP_BIN (directory of the built programs),
OSAP_SRC (source tree), OSAP_TEST_DATA_DIR (tests/data).
"""

import json
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HOST = "127.0.0.1"
SERVICE_PORTS = ("lbs", "das", "api")


def src_dir():
    """The source tree (OSAP_SRC, else the tree this file is in)."""
    return os.environ.get("OSAP_SRC") or os.path.abspath(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def bin_dir():
    """Where the built programs are (OSAP_BIN, else build/bin of the tree)."""
    return os.environ.get("OSAP_BIN") or os.path.join(src_dir(), "build", "bin")


def data_dir():
    """tests/data (OSAP_TEST_DATA_DIR, else the tree's)."""
    return os.environ.get("OSAP_TEST_DATA_DIR") or os.path.join(src_dir(), "tests", "data")


def program(name):
    """Path of a built program, e.g. program("osapd")."""
    return os.path.join(bin_dir(), name)


def tests_dir():
    """Where the C helpers of the tests are built (OSAP_TESTS, else build/tests)."""
    return os.environ.get("OSAP_TESTS") or os.path.join(src_dir(), "build", "tests")


def helper(name):
    """Path of a C helper of the tests, e.g. helper("das-envelope")."""
    return os.path.join(tests_dir(), name)


def built_services():
    """The services this osapd has built in (`osapd --list-services`)."""
    try:
        r = subprocess.run([program("osapd"), "--list-services"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           timeout=30)
    except OSError:
        return set()
    return set(r.stdout.split())


def require_services(services):
    """Skip the test (unittest.SkipTest) when osapd lacks one of services."""
    missing = set(services) - built_services()
    if missing:
        raise unittest.SkipTest("osapd is built without " + ", ".join(sorted(missing)))


def wait_until(pred, timeout=5.0, step=0.02):
    """Poll pred until it holds or timeout passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

# Ports for servers under test come from below the kernel's ephemeral range
# (net.ipv4.ip_local_port_range, 32768-60999 by default): a port that bind(0)
# hands out is taken from that range, where any outgoing connection of a parallel
# test (clients, osap-sim fleets) may take it again before the server binds it.
_PORT_LOW, _PORT_HIGH = 20000, 32767
_port_rng = random.Random(os.getpid() ^ int(time.time() * 1000))
# A port handed out is also claimed for the rest of this process's life with an
# abstract Unix socket named after it (Linux: the kernel releases it when the
# process exits, nothing is left on disk), so that tests running in parallel
# never choose the same port between choosing it and their server binding it.
_port_claims = []


def _claim_port(port):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind("\0osap-test-port-%d" % port)
    except OSError:
        s.close()
        return False
    _port_claims.append(s)
    return True


def free_ports(n, host=HOST):
    """n distinct TCP ports that are free on host right now, chosen at random
    below the ephemeral range."""
    socks, ports = [], []
    try:
        tries = 0
        while len(ports) < n:
            tries += 1
            if tries > 10000:
                raise AssertionError("no free TCP port in %d-%d" % (_PORT_LOW, _PORT_HIGH))
            port = _port_rng.randint(_PORT_LOW, _PORT_HIGH)
            if port in ports:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((host, port))
            except OSError:
                s.close()
                continue
            if not _claim_port(port):  # another test (or this one) has it
                s.close()
                continue
            socks.append(s)
            ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


def free_port(host=HOST):
    """One free TCP port on host."""
    return free_ports(1, host)[0]


def port_open(port, host=HOST, timeout=0.2):
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(port, host=HOST, timeout=15.0, proc=None):
    """Wait until host:port accepts connections; fail early if proc exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port, host):
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError("osapd exited (status %s) before %s:%d accepted connections"
                                 % (proc.returncode, host, port))
        time.sleep(0.05)
    raise AssertionError("%s:%d did not accept connections within %.1fs" % (host, port, timeout))


# ---------------------------------------------------------------------------
# One osapd
# ---------------------------------------------------------------------------

def _ini_value(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


class Osapd:
    """An osapd with its own configuration, data directory and log.

    services: names for [osapd] services. settings: {"section": {"key": value}}
    added to (or overriding) the generated configuration; values may be str,
    int, bool or lists. ports: {"das": 1883, ...} to choose ports instead of
    free ones.
    """

    def __init__(self, workdir, services=(), settings=None, ports=None):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "osapd.conf")
        self.log_path = os.path.join(workdir, "osapd.log")
        self.data_dir = os.path.join(workdir, "var")
        self.services = tuple(services)
        self.settings = {s: dict(kv) for s, kv in (settings or {}).items()}
        chosen = free_ports(len(SERVICE_PORTS))
        self.ports = dict(zip(SERVICE_PORTS, chosen))
        self.ports.update(ports or {})
        self.proc = None
        self._log_file = None
        self.write_config()

    # -- configuration ------------------------------------------------------

    def config_sections(self):
        """The configuration as {section: {key: text}}, before it is written."""
        sections = {
            "osapd": {"data_dir": self.data_dir, "services": ", ".join(self.services)},
        }
        for svc in SERVICE_PORTS:
            sections[svc] = {"listen": HOST, "port": str(self.ports[svc])}
        for section, kv in self.settings.items():
            sections.setdefault(section, {})
            for key, value in kv.items():
                sections[section][key] = _ini_value(value)
        return sections

    def write_config(self, text=None):
        """Write osapd.conf from services/ports/settings, or exactly text."""
        if text is None:
            lines = ["# written by tests/lib/osaptest.py"]
            for section, kv in self.config_sections().items():
                lines.append("")
                lines.append("[%s]" % section)
                for key, value in kv.items():
                    lines.append("%s = %s" % (key, value))
            text = "\n".join(lines) + "\n"
        with open(self.config_path, "w") as f:
            f.write(text)

    def port(self, service):
        """The TCP port configured for service ("lbs", "das", "api")."""
        return self.ports[service]

    # -- administration commands ---------------------------------------------

    def run(self, *args, input=None, timeout=60, config=True):
        """Run `osapd ARGS... [-c osapd.conf]`; returns subprocess.CompletedProcess
        with text stdout/stderr."""
        cmd = [program("osapd")] + [str(a) for a in args]
        if config:
            cmd += ["-c", self.config_path]
        return subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout)

    def admin(self, *args, input=None, expect=0, timeout=60):
        """Run an administration command and check its exit code (expect=None
        skips the check). Returns the CompletedProcess."""
        r = self.run(*args, input=input, timeout=timeout)
        if expect is not None and r.returncode != expect:
            raise AssertionError(
                "osapd %s: exit %d, expected %d\n--- stdout\n%s--- stderr\n%s"
                % (" ".join(str(a) for a in args), r.returncode, expect, r.stdout, r.stderr))
        return r

    # -- the daemon ------------------------------------------------------------

    def start(self, args=(), wait=True, wait_ports=None, timeout=15.0):
        """Start the daemon in the background, its output appended to log_path.
        With wait, return once the ports of its services accept connections
        (wait_ports overrides which) and it logged that it is ready."""
        if self.running():
            raise AssertionError("osapd is already running")
        self._log_file = open(self.log_path, "ab")
        ready_log = self._ready_log()
        since = len(self.log_text(ready_log))
        cmd = [program("osapd"), "-c", self.config_path] + [str(a) for a in args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log_file,
                                     stderr=subprocess.STDOUT, cwd=self.workdir)
        if not wait:
            return self.proc
        ports = wait_ports
        if ports is None:
            ports = [self.ports[s] for s in self.services if s in self.ports]
        for p in ports:
            wait_port(p, timeout=timeout, proc=self.proc)
        self.wait_log("ready (pid %d)" % self.proc.pid, timeout=timeout, log_path=ready_log,
                      since=since)
        return self.proc

    def _ready_log(self):
        log_file = self.settings.get("osapd", {}).get("log_file")
        return log_file if log_file else self.log_path

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        """Send a signal to the daemon."""
        self.proc.send_signal(sig)

    def wait(self, timeout=15.0):
        """Wait for the daemon to exit; returns its status."""
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._close_log()

    def stop(self, expect=0, timeout=15.0, sig=signal.SIGTERM):
        """Stop with SIGTERM (or sig) and return the exit status; asserts it is
        expect (None: no check). A daemon that does not exit in time is killed
        and the test fails."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._close_log()
                raise AssertionError("osapd did not stop within %.1fs of %s; killed"
                                     % (timeout, signal.Signals(sig).name))
        self._close_log()
        rc = self.proc.returncode
        if expect is not None and rc != expect:
            raise AssertionError("osapd exited with status %d, expected %d\n%s"
                                 % (rc, expect, self.log_tail()))
        return rc

    def kill(self):
        """kill -9, as a crash would."""
        if self.running():
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()
        self._close_log()

    def restart(self, **kwargs):
        """Stop cleanly and start again on the same data directory."""
        self.stop()
        return self.start(**kwargs)

    def _close_log(self):
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # -- the log ---------------------------------------------------------------

    def log_text(self, log_path=None):
        """Everything the daemon wrote so far."""
        try:
            with open(log_path or self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        lines = self.log_text().splitlines()
        return "\n".join(lines[-n:])

    def wait_log(self, needle, timeout=10.0, log_path=None, since=0):
        """Wait until needle appears in the log (after its first since
        characters); fails with the log tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log_text(log_path)[since:]:
                return
            if self.proc is not None and self.proc.poll() is not None:
                if needle in self.log_text(log_path)[since:]:
                    return
                raise AssertionError("osapd exited (status %s) before logging %r\n%s"
                                     % (self.proc.returncode, needle, self.log_tail()))
            time.sleep(0.05)
        raise AssertionError("%r not in the log after %.1fs\n%s"
                             % (needle, timeout, self.log_tail()))


# ---------------------------------------------------------------------------
# A scripted device (a C helper that prints one JSON object per line)
# ---------------------------------------------------------------------------

class JsonLineDevice:
    """A scripted device process (sdk-device, api-device): commands on its
    standard input, one JSON object per line on its standard output. Lines
    are kept in seen; states, acknowledged event ids and requests are also
    collected in states, acked and requests."""

    def __init__(self, cmd, serial):
        self.serial = serial
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.seen = []
        self.states = []
        self.acked = []
        self.requests = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @staticmethod
    def command_line(name, lbs_port, serial, code, state_dir=None, licence=False,
                     keepalive=None):
        """The helper's command line with the options every scripted device takes."""
        cmd = [helper(name), "--lbs", "%s:%d" % (HOST, lbs_port), "--serial", serial,
               "--code", code]
        if state_dir:
            cmd += ["--state-dir", state_dir]
        if licence:
            cmd.append("--licence")
        if keepalive:
            cmd += ["--keepalive", str(keepalive)]
        return cmd

    def _read(self):
        for line in self.proc.stdout:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            self.lines.put(obj)

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
        """Read lines until pred(line) holds; returns that line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            obj = self._drain(min(0.2, max(0.0, deadline - time.monotonic())))
            if obj is not None and pred(obj):
                return obj
            if obj is None and self.proc.poll() is not None and self.lines.empty():
                break
        raise AssertionError("%s: no %s within %.0fs (seen: %s; stderr: %s)"
                             % (self.serial, what, timeout, self.seen[-8:], self.stderr()))

    def wait_state(self, state, timeout=30.0):
        """Return once the last state the device printed is state."""
        if self.states and self.states[-1] == state:
            return
        self.wait_for(lambda o: o.get("state") == state, timeout, "state %s" % state)

    def pump(self, seconds):
        """Keep reading lines for a while."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._drain(min(0.2, end - time.monotonic()))

    def send(self, line):
        """One command line to the device."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def event(self, domain, identifier, body):
        """Raise an event; returns its id (an error line raises AssertionError)."""
        self.send("event %s %s %s" % (domain, identifier, json.dumps(body, separators=(",", ":"))))
        obj = self.wait_for(lambda o: "raised" in o or "error" in o, 10, "raised")
        if "error" in obj:
            raise AssertionError("event refused: %s" % obj)
        return obj["raised"]

    def attr(self, domain, identifier, value):
        """Report an attribute value."""
        self.send("attr %s %s %s" % (domain, identifier, json.dumps(value)))
        self.wait_for(lambda o: "reported" in o or "error" in o, 10, "reported")

    def wait_acked(self, ids, timeout=60.0):
        """Wait until the server acknowledged every event id in ids."""
        want = set(ids)
        deadline = time.monotonic() + timeout
        while not want <= set(self.acked):
            if time.monotonic() > deadline:
                raise AssertionError("%s: events %s not acknowledged (acked %s)"
                                     % (self.serial, sorted(want - set(self.acked)), self.acked))
            self._drain(0.2)

    def kill(self):
        """kill -9."""
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

    def stderr(self):
        """The end of what the device wrote on standard error, once it exited."""
        if self.proc.poll() is None:
            return ""
        try:
            return self.proc.stderr.read()[-2000:]
        except (OSError, ValueError):
            return ""


# ---------------------------------------------------------------------------
# Test case base class
# ---------------------------------------------------------------------------

class OsapTestCase(unittest.TestCase):
    """A test with a fresh osapd (self.osapd, not started) in self.tmp.

    Class attributes services and settings configure it; self.new_osapd() makes
    more (e.g. a second node), cleaned up the same way."""

    services = ()
    settings = {}

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="osap-test-")
        self._daemons = []
        self._saved_logs = []
        self.osapd = self.new_osapd(self.services, self.settings, subdir=None)

    def new_osapd(self, services=(), settings=None, ports=None, subdir="node"):
        """Another osapd in its own directory below self.tmp."""
        workdir = self.tmp
        if subdir is not None:
            workdir = tempfile.mkdtemp(prefix=subdir + "-", dir=self.tmp)
        d = Osapd(workdir, services, settings, ports)
        self._daemons.append(d)
        return d

    def tearDown(self):
        errors = []
        for d in self._daemons:
            try:
                if d.running():
                    d.stop()
            except AssertionError as e:
                errors.append(str(e))
            finally:
                d.kill()
                self._saved_logs.append((d.workdir, d.log_tail()))
        if os.environ.get("OSAP_KEEP_TMP"):
            sys.stderr.write("kept %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if errors:
            self.fail("\n".join(errors))

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        super().run(result)
        if len(result.failures) + len(result.errors) > before:
            for workdir, tail in getattr(self, "_saved_logs", []):
                sys.stderr.write("\n---- osapd log (%s), last lines ----\n%s\n----\n"
                                 % (workdir, tail))
        return result


def main():
    """unittest.main with verbose output."""
    unittest.main(verbosity=2)

"""Start and stop http-testd (tests/interop/http_testd.c) for test_http_*.py."""
import os
import socket
import subprocess
import time


def binary():
    tests = os.environ.get("OSAP_TESTS")
    if not tests:
        raise RuntimeError("OSAP_TESTS is not set (run through ctest)")
    return os.path.join(tests, "http-testd")


class Server:
    """One http-testd process; `port` is where it listens."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([binary(), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError("http-testd did not start: %r" % line)
        self.port = int(line.split()[1])

    def url(self, path, scheme="http"):
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, path)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """Graceful close (end of stdin); returns the exit status (0 = clean, no leaks)."""
        self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -1


def raw(port, data, timeout=5.0):
    """Send raw bytes on a new connection; return everything read until the server
    closes (or the timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()

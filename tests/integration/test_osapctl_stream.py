"""osapctl against scripted HTTP peers (no osapd): the event-stream parser
(comments, multi-line data, CRLF / CR / LF line ends, fields without a space,
messages split byte by byte across chunks), resuming with Last-Event-ID after
the stream ends, and the failure classes of broken servers: a malformed
response, a connection closed inside the body, a response head or a stream
message over osapctl's ceilings, API and non-API error bodies."""

import json
import os
import socket
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import osaptest  # noqa: E402


class Peer:
    """A TCP server on a free loopback port; each accepted connection runs the
    next handler of the list (the last one repeats) with (socket, request head)."""

    def __init__(self, handlers):
        self.handlers = list(handlers)
        self.heads = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.stop = threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        n = 0
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            head = b""
            conn.settimeout(10)
            try:
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                self.heads.append(head.decode("latin-1"))
                handler = self.handlers[min(n, len(self.handlers) - 1)]
                n += 1
                handler(conn, self.heads[-1])
            except Exception as e:  # reported by the test
                self.errors.append(repr(e))
            finally:
                try:
                    conn.close()
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=5)


def header(head, name):
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


SSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")


class TestStream(unittest.TestCase):

    def setUp(self):
        if not os.path.exists(osaptest.program("osapctl")):
            raise unittest.SkipTest("osapctl is not built")
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.close()

    def peer(self, *handlers):
        p = Peer(handlers)
        self.peers.append(p)
        return p

    def ctl(self, url, *args, timeout=30):
        env = dict(os.environ, OSAP_URL=url, OSAP_TOKEN="osap_test-token")
        return subprocess.run([osaptest.program("osapctl")] + list(args), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=timeout)

    def test_sse_framing_and_resume(self):
        body = (b": a comment\r\n\r\n"
                b"event: event\r\nid: 7\r\ndata: {\"id\":7,\r\ndata: \"serial\":\"A\"}\r\n\r\n"
                b"event: status\rdata: {\"serial\":\"A\",\"online\":true}\r\r"
                b"event: attribute\ndata:{\"serial\":\"A\",\"value\":1}\nretry: 5\nunknown: x\n\n"
                b"event: ignored-without-data\n\n"
                b"data: {\"x\":1}\n\n")

        def first(conn, head):
            assert header(head, "Last-Event-ID") is None, head
            assert header(head, "Authorization") == "Bearer osap_test-token", head
            assert head.startswith("GET /api/v1/events/stream?serial=A HTTP/1.1\r\n"), head
            conn.sendall(SSE_HEAD)
            half = len(body) // 2
            for i in range(half):  # one byte per chunk
                conn.sendall(chunk(body[i:i + 1]))
            conn.sendall(chunk(body[half:]) + b"0\r\n\r\n")  # the stream ends

        def second(conn, head):
            assert header(head, "Last-Event-ID") == "7", head
            conn.sendall(SSE_HEAD + chunk(b"event: event\nid: 8\ndata: {\"id\":8}\n\n"))
            conn.recv(1)  # hold until osapctl leaves

        p = self.peer(first, second)
        r = self.ctl(p.url, "--json", "events", "tail", "--serial", "A", "--count", "5")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual(lines, [
            {"type": "event", "id": 7, "data": {"id": 7, "serial": "A"}},
            {"type": "status", "id": None, "data": {"serial": "A", "online": True}},
            {"type": "attribute", "id": None, "data": {"serial": "A", "value": 1}},
            {"type": "message", "id": None, "data": {"x": 1}},
            {"type": "event", "id": 8, "data": {"id": 8}},
        ])
        self.assertEqual(len(p.heads), 2)
        self.assertEqual(p.errors, [])

    def test_stream_message_too_large(self):
        def huge(conn, head):
            conn.sendall(SSE_HEAD)
            block = b"x" * 65536
            conn.sendall(chunk(b"data: "))
            for _ in range(80):  # 5 MiB on one line
                conn.sendall(chunk(block))
            conn.recv(1)

        p = self.peer(huge)
        r = self.ctl(p.url, "events", "tail")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("larger than", r.stderr)
        self.assertEqual(len(p.heads), 1)  # not resumed: it would meet the same message

    def test_first_connection_refused_with_api_error(self):
        def busy(conn, head):
            body = b'{"error":{"code":"too_many_streams","message":"too many streams"}}'
            conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

        p = self.peer(busy)
        r = self.ctl(p.url, "events", "tail")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("too_many_streams", r.stderr)

    def test_broken_servers(self):
        def garbage(conn, head):
            conn.sendall(b"this is not HTTP\r\n\r\n")

        def cut(conn, head):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"items\":[")

        def big_head(conn, head):
            conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"a" * 70000 + b"\r\n\r\n")

        def html_error(conn, head):
            body = b"<html>oops</html>"
            conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

        def not_json(conn, head):
            body = b"{not json"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

        def close_delimited(conn, head):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\n\r\n"
                         b'{"serial":"Z1","online":false}')

        cases = [(garbage, 3, "malformed response"), (cut, 3, "closed before"),
                 (big_head, 3, "head is larger"), (html_error, 1, "HTTP 500"),
                 (not_json, 3, "not valid JSON")]
        for handler, code, text in cases:
            p = self.peer(handler)
            r = self.ctl(p.url, "device", "list")
            self.assertEqual(r.returncode, code, (handler.__name__, r.stderr))
            self.assertIn(text, r.stderr, handler.__name__)
        # a body that ends with the connection is complete
        p = self.peer(close_delimited)
        r = self.ctl(p.url, "--json", "device", "show", "Z1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {"serial": "Z1", "online": False})
        # the URL prefix and the escaping of path segments
        p = self.peer(close_delimited)
        r = self.ctl(p.url + "/osap/", "device", "show", "pk 1:dn/1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(p.heads[0].startswith("GET /osap/api/v1/devices/pk%201%3Adn%2F1 HTTP/1.1"),
                        p.heads[0])
        self.assertEqual(header(p.heads[0], "Host"), "127.0.0.1:%d" % p.port)


if __name__ == "__main__":
    unittest.main(verbosity=2)

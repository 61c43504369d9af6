"""Bad input, floods and guessing against a live LBS: garbage, truncated and
oversized frames, five-byte lengths, a byte per second, connection floods beyond
the limits, repeated wrong codes from one address and against one serial. Each
gets its result code or a close, osapd keeps running, and a well-behaved device
completes path A at the same time.
"""

import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lbstest  # noqa: E402
import osaptest  # noqa: E402

SERIAL = "Q12345678"
CODE = "ABCDEF"
GOOD = "GOODDEV01"


def first_0x1():
    """The SAP capture's first 0x1 (valid for Q12345678 / ABCDEF)."""
    cap = dict(lbstest.captures())["sap_a_first_start"]
    m = [m for m in cap["messages"] if m["service"] == "lbs" and m["dir"] == "dev->srv"][0]
    return bytes.fromhex(m["hex"])


class LbsAbuseTest(osaptest.OsapTestCase):
    services = ("lbs",)
    settings = {"lbs": {"step_timeout": "2s", "close_linger": "1s", "stats_interval": "0",
                        "max_connections": 60, "max_connections_per_address": 20,
                        "stop_timeout": "2s"}}

    def setUp(self):
        super().setUp()
        for serial in (SERIAL, GOOD, "TARGET01"):
            self.osapd.admin("device", "add", "--serial", serial, "--code", CODE)
        lbstest.add_das_node(self.osapd.data_dir)
        self.osapd.start()
        self.port = self.osapd.port("lbs")

    def good_device(self, serial=GOOD, *args):
        rc, lines = lbstest.run_device(self.port, serial, CODE, *args)
        return lines[-1]

    def assert_good(self, serial=GOOD, *args):
        line = self.good_device(serial, *args)
        self.assertEqual((line["result"], line["done"]), (0, 1), line)
        return line

    def assert_alive(self):
        self.assertTrue(self.osapd.running(), "osapd exited\n" + self.osapd.log_tail())
        self.assert_good()

    def send_expect(self, data, want, bind=None):
        s = lbstest.connect(self.port, bind=bind)
        s.sendall(data)
        got = lbstest.recv_exact(s, len(want)) if want else b""
        closed = lbstest.closed_by_peer(s)
        s.close()
        self.assertEqual(got.hex(), want.hex())
        self.assertTrue(closed, "not closed after %s" % data[:8].hex())

    # -- malformed input -----------------------------------------------------------

    def test_garbage_answered_with_result_3(self):
        err3 = lbstest.error_answer(0x2, 3)
        for data in (b"\x00\x01\x02",              # reserved type 0
                     b"\xff\x02\x00\x00",          # STUN/secret-key type 0xF
                     b"\x1a\x03\x00\x00\x00",      # 0x1 far too short
                     b"\x10\x82\x01" + bytes(130),  # 0x1 without the ECDH flag
                     ):
            with self.subTest(data=data[:6].hex()):
                self.send_expect(data, err3)
        self.assert_alive()

    def test_oversized_and_five_byte_lengths(self):
        err3 = lbstest.error_answer(0x2, 3)
        # over max_frame (512) as soon as the length is read, before the rest arrives
        self.send_expect(b"\x1a\xff\xff\x7f", err3)
        self.send_expect(b"\x1a\x81\x04", err3)             # 513 + header
        self.send_expect(b"\x1a\x80\x80\x80\x80\x01", err3)  # a fifth length byte
        self.send_expect(b"\x1a\x80\x00" + bytes(10), err3)  # non-minimal length
        self.assert_alive()

    def test_truncated_frame_and_slow_sender_time_out(self):
        msg = first_0x1()
        s = lbstest.connect(self.port)
        s.sendall(msg[:40])  # never completed
        t0 = time.monotonic()
        self.assertTrue(lbstest.closed_by_peer(s, timeout=10))
        took = time.monotonic() - t0
        s.close()
        self.assertGreater(took, 1.5)
        self.assertLess(took, 5.0)
        # One byte per 0.5 s: the step timeout (2 s) counts from the start of the
        # message, not from the last byte.
        s = lbstest.connect(self.port)
        t0 = time.monotonic()
        closed = False
        for b in msg:
            try:
                s.sendall(bytes([b]))
            except OSError:
                closed = True
                break
            if lbstest.closed_by_peer(s, timeout=0.5):
                closed = True
                break
        took = time.monotonic() - t0
        s.close()
        self.assertTrue(closed)
        self.assertLess(took, 4.0)
        self.osapd.wait_log("step timeout")
        self.assert_alive()

    def test_second_message_out_of_order_after_good_first(self):
        s = lbstest.connect(self.port)
        s.sendall(first_0x1())
        self.assertEqual(lbstest.recv_frame(s)[:7].hex(), "2a760101010000")
        s.sendall(first_0x1())  # 0x1 again
        self.assertEqual(lbstest.recv_exact(s, 7).hex(), lbstest.error_answer(0x2, 2).hex())
        self.assertTrue(lbstest.closed_by_peer(s))
        s.close()

    def test_pipelined_frames_are_handled_one_at_a_time(self):
        # Two messages in one write: the second is handled after the first's answer.
        s = lbstest.connect(self.port)
        s.sendall(first_0x1() + first_0x1())
        self.assertEqual(lbstest.recv_frame(s)[:7].hex(), "2a760101010000")
        self.assertEqual(lbstest.recv_exact(s, 7).hex(), lbstest.error_answer(0x2, 2).hex())
        self.assertTrue(lbstest.closed_by_peer(s))
        s.close()

    # -- floods ----------------------------------------------------------------------

    def open_idle(self, n, bind):
        socks = []
        for _ in range(n):
            try:
                socks.append(lbstest.connect(self.port, bind=bind, timeout=5))
            except OSError:
                break
        return socks

    def count_closed(self, socks, want, timeout=10.0):
        """How many of socks the server has closed, waiting up to timeout for want."""
        closed = set()
        deadline = time.monotonic() + timeout
        while True:
            for i, s in enumerate(socks):
                if i in closed:
                    continue
                s.settimeout(0.01)
                try:
                    if s.recv(1) == b"":
                        closed.add(i)
                except socket.timeout:
                    pass
                except OSError:
                    closed.add(i)
            if len(closed) >= want or time.monotonic() > deadline:
                return len(closed)
            time.sleep(0.1)

    def test_flood_from_one_address(self):
        socks = self.open_idle(100, "127.0.0.2")
        try:
            # More than max_connections_per_address (20) from one address: closed at once.
            self.assertEqual(len(socks), 100)
            self.assertGreaterEqual(self.count_closed(socks, 80), 80)
            # Meanwhile a device from another address is unaffected.
            self.assert_good()
        finally:
            for s in socks:
                s.close()
        self.osapd.wait_log("too many connections from this address")
        # Exactly the 80 beyond the limit were refused (the counters, logged at stop).
        self.osapd.stop()
        self.assertRegex(self.osapd.log_text(), r"counters .*refused_limit=80 ")

    def test_flood_from_many_addresses_beyond_max_connections(self):
        socks = []
        try:
            for i in range(10):  # 10 addresses x 15 idle connections = 150 > 60
                socks += self.open_idle(15, "127.0.1.%d" % (i + 1))
            closed = self.count_closed(socks, 150 - 60)
            self.assertGreaterEqual(closed, 150 - 60)
            # The oldest idle connections make room: a device still gets through,
            # also while 20 more connect in parallel.
            results = []
            threads = [threading.Thread(target=lambda: results.append(self.good_device()))
                       for _ in range(3)]
            for t in threads:
                t.start()
            more = self.open_idle(20, "127.0.2.1")
            socks += more
            for t in threads:
                t.join()
            for r in results:
                self.assertEqual((r["result"], r["done"]), (0, 1), r)
        finally:
            for s in socks:
                s.close()
        self.assert_alive()

    def test_many_devices_at_once(self):
        serials = ["PAR%03d" % i for i in range(24)]
        for sn in serials:
            self.osapd.admin("device", "add", "--serial", sn, "--code", CODE)
        results = {}

        def run(i, sn):
            # each from its own address: max_connections_per_address is 20 here
            results[sn] = self.good_device(sn, "--bind", "127.0.3.%d" % (i + 1))

        threads = [threading.Thread(target=run, args=(i, sn)) for i, sn in enumerate(serials)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for sn in serials:
            self.assertEqual((results[sn]["result"], results[sn]["done"]), (0, 1), results[sn])
        devids = {results[sn]["devid"] for sn in serials}
        self.assertEqual(len(devids), len(serials))


class LbsBudgetAddressTest(osaptest.OsapTestCase):
    services = ("lbs",)
    settings = {"lbs": {"address_failures": 3, "serial_failures": 1000, "stats_interval": "0"}}

    def test_wrong_codes_from_one_address_are_refused(self):
        for sn in (SERIAL, GOOD):
            self.osapd.admin("device", "add", "--serial", sn, "--code", CODE)
        lbstest.add_das_node(self.osapd.data_dir)
        self.osapd.start()
        port = self.osapd.port("lbs")
        # Wrong codes from 127.0.0.5: upper, lower, upper -> budget (3) spent.
        rc, lines = lbstest.run_device(port, SERIAL, "WRONG1", "--bind", "127.0.0.5",
                                       "--attempts", "3")
        self.assertEqual([l["result"] for l in lines], [1, 1, 1])
        # Now even the right code from that address is closed at accept, unanswered.
        rc, lines = lbstest.run_device(port, SERIAL, CODE, "--bind", "127.0.0.5")
        self.assertEqual((lines[0]["result"], lines[0]["done"]), (-1, 0), lines[0])
        s = lbstest.connect(port, bind="127.0.0.5")
        s.sendall(first_0x1())
        self.assertTrue(lbstest.closed_by_peer(s))
        self.assertEqual(lbstest.recv_exact(s, 1), b"")
        s.close()
        self.osapd.wait_log("address spent its attempt budget")
        self.assertIn("127.0.0.5", self.osapd.log_text())
        # Other addresses, and the same serial from them, are unaffected.
        for sn in (GOOD, SERIAL):
            rc, lines = lbstest.run_device(port, sn, CODE, "--bind", "127.0.0.6")
            self.assertEqual((lines[0]["result"], lines[0]["done"]), (0, 1), lines[0])
        # Unknown serials count against the address too.
        rc, lines = lbstest.run_device(port, "NOPE1", CODE, "--bind", "127.0.0.7",
                                       "--attempts", "4")
        self.assertEqual([l["result"] for l in lines], [5, 5, 5, -1])


class LbsBudgetSerialTest(osaptest.OsapTestCase):
    services = ("lbs",)
    settings = {"lbs": {"serial_failures": 3, "address_failures": 1000, "stats_interval": "0"}}

    def test_wrong_codes_against_one_serial_are_refused(self):
        for sn in ("TARGET01", GOOD):
            self.osapd.admin("device", "add", "--serial", sn, "--code", CODE)
        lbstest.add_das_node(self.osapd.data_dir)
        self.osapd.start()
        port = self.osapd.port("lbs")
        state = os.path.join(self.tmp, "target.state")
        # The target registers first (its devid and master key are stored).
        rc, lines = lbstest.run_device(port, "TARGET01", CODE, "--state", state)
        self.assertEqual(lines[0]["done"], 1, lines)
        # Guesses against its code from several addresses.
        for i, addr in enumerate(("127.0.0.11", "127.0.0.12", "127.0.0.13")):
            rc, lines = lbstest.run_device(port, "TARGET01", "GUESS%d" % i, "--bind", addr)
            self.assertEqual(lines[0]["result"], 1, lines)
        self.osapd.wait_log("serial spent its attempt budget")
        # Spent: even the right code is answered as wrong, without being checked,
        # from any address.
        rc, lines = lbstest.run_device(port, "TARGET01", CODE, "--bind", "127.0.0.14")
        self.assertEqual((lines[0]["result"], lines[0]["closed"]), (1, 1), lines[0])
        self.assertIn("refused: serial spent its attempt budget", self.osapd.log_text())
        # The registered device itself keeps working through path C (its master
        # key, not its code, is the proof there).
        rc, lines = lbstest.run_device(port, "TARGET01", CODE, "--state", state)
        self.assertEqual((lines[0]["path"], lines[0]["done"]), ("C", 1), lines[0])
        # Another device is unaffected.
        rc, lines = lbstest.run_device(port, GOOD, CODE)
        self.assertEqual(lines[0]["done"], 1, lines[0])


class LbsStopTest(osaptest.OsapTestCase):
    services = ("lbs",)
    settings = {"lbs": {"stop_timeout": "1s", "stats_interval": "0"}}

    def test_graceful_stop_with_connections_open(self):
        self.osapd.admin("device", "add", "--serial", SERIAL, "--code", CODE)
        lbstest.add_das_node(self.osapd.data_dir)
        self.osapd.start()
        port = self.osapd.port("lbs")
        idle = lbstest.connect(port)
        mid = lbstest.connect(port)
        mid.sendall(first_0x1())
        self.assertEqual(lbstest.recv_frame(mid)[:7].hex(), "2a760101010000")
        time.sleep(0.2)
        t0 = time.monotonic()
        self.assertEqual(self.osapd.stop(), 0)
        self.assertLess(time.monotonic() - t0, 5.0)
        for s in (idle, mid):
            self.assertTrue(lbstest.closed_by_peer(s, timeout=2))
            s.close()
        log = self.osapd.log_text()
        self.assertIn("closing 1 connections still under way", log)


if __name__ == "__main__":
    osaptest.main()

"""A device (lbs-device: libosap's client state machine) against a live osapd
running the LBS: paths A, C and B in turn, and every failure a device can meet,
each answered with its result code and followed by the server's close. The
store must hold what each success established and nothing from a failure.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lbstest  # noqa: E402
import osaptest  # noqa: E402

SERIAL = "Q12345678"
CODE = "ABCDEF"
LICENCE_SERIAL = "4LYV8SK7UKLBOUOVS6HXVX:A532NO6K0Q2O"
LICENCE = "J7Fv5gCsTczVe38aNLe4ev"


class LbsDeviceTest(osaptest.OsapTestCase):
    services = ("lbs",)
    settings = {"lbs": {"stats_interval": "0"}}

    def setUp(self):
        super().setUp()
        self.osapd.admin("device", "add", "--serial", SERIAL, "--code", CODE)
        lbstest.add_das_node(self.osapd.data_dir, "das-1", "10.0.0.1", 1883, 1884, "das.test")
        self.osapd.start()
        self.port = self.osapd.port("lbs")
        self.state = os.path.join(self.tmp, "device.state")

    def device(self, *args, serial=SERIAL, code=CODE):
        return lbstest.run_device(self.port, serial, code, *args)

    def one(self, *args, **kw):
        """One attempt; returns its line."""
        rc, lines = self.device(*args, **kw)
        self.assertEqual(len(lines), 1, lines)
        return lines[0]

    def assert_ok(self, line, path):
        self.assertEqual((line["result"], line["done"], line["path"]), (0, 1, path), line)
        self.assertEqual(line["closed"], 1, "the LBS must close after 0xB: %s" % line)

    def assert_fail(self, line, result, path=None):
        self.assertEqual((line["result"], line["done"]), (result, 0), line)
        self.assertEqual(line["closed"], 1, "the LBS must close after an error: %s" % line)
        if path:
            self.assertEqual(line["path"], path, line)

    def session(self, serial=SERIAL):
        return lbstest.session_row(self.osapd.data_dir, serial)

    def row(self, serial=SERIAL):
        return lbstest.device_row(self.osapd.data_dir, serial)

    def first_start(self):
        line = self.one("--state", self.state)
        self.assert_ok(line, "A")
        return line

    # -- success paths ---------------------------------------------------------

    def test_path_a_then_c_then_b_then_factory_reset(self):
        a = self.first_start()
        self.assertRegex(a["devid"], r"^[0-9A-F]{32}$")
        self.assertEqual(a["das"], {"address": "10.0.0.1", "port": 1883, "udp_port": 1884,
                                    "domain": "das.test", "server_id": "das-1"})
        row, sess = self.row(), self.session()
        self.assertEqual(row["devid"], a["devid"])
        self.assertEqual(row["master_key"], a["master_key"])
        self.assertEqual(row["share_key_case"], 1)  # upper case matched
        self.assertEqual(sess["devid"], a["devid"])
        self.assertEqual(bytes(sess["session_key"]).hex(), a["session_key"])
        self.assertEqual(sess["das_node"], "das-1")

        c = self.one("--state", self.state)
        self.assert_ok(c, "C")
        self.assertEqual((c["devid"], c["master_key"]), (a["devid"], a["master_key"]))
        self.assertNotEqual(c["session_key"], a["session_key"])
        self.assertEqual(bytes(self.session()["session_key"]).hex(), c["session_key"])

        # The master key is lost: path B keeps the devid, makes a new master key.
        with open(self.state, "w") as f:
            f.write(a["devid"] + "\n")
        b = self.one("--state", self.state)
        self.assert_ok(b, "B")
        self.assertEqual(b["devid"], a["devid"])
        self.assertNotEqual(b["master_key"], a["master_key"])
        self.assertEqual(self.row()["master_key"], b["master_key"])
        self.assertEqual(bytes(self.session()["session_key"]).hex(), b["session_key"])

        # A factory reset forgets everything: path A again, the same devid.
        os.unlink(self.state)
        again = self.first_start()
        self.assertEqual(again["devid"], a["devid"])

    def test_licence_device(self):
        self.osapd.admin("device", "add", "--serial", LICENCE_SERIAL, "--licence", LICENCE)
        a = self.one("--licence", "--state", self.state, serial=LICENCE_SERIAL, code=LICENCE)
        self.assert_ok(a, "A")
        c = self.one("--licence", "--state", self.state, serial=LICENCE_SERIAL, code=LICENCE)
        self.assert_ok(c, "C")
        # The same serial in SAP mode is another identity: unknown.
        self.assert_fail(self.one(serial=LICENCE_SERIAL, code=LICENCE), 5)

    def test_least_loaded_healthy_das(self):
        lbstest.add_das_node(self.osapd.data_dir, "das-1", "10.0.0.1", 1883, 0, "", connections=9)
        lbstest.add_das_node(self.osapd.data_dir, "das-2", "10.0.0.2", 2883, 0, "", connections=2)
        lbstest.add_das_node(self.osapd.data_dir, "das-3", "10.0.0.3", 3883, 0, "", connections=0,
                             age_ms=120000)  # not heard of for 2 min: not healthy
        a = self.first_start()
        self.assertEqual(a["das"]["server_id"], "das-2")
        self.assertEqual(a["das"]["port"], 2883)
        self.assertEqual(self.session()["das_node"], "das-2")

    # -- failures ----------------------------------------------------------------

    def test_wrong_code_then_lower_case_retry(self):
        rc, lines = self.device("--attempts", "3", code="WRONG1")
        self.assertEqual(len(lines), 3)
        self.assert_fail(lines[0], 1, "A")
        self.assertEqual(lines[0]["retry_now"], 1)  # upper case failed: lower case at once
        self.assert_fail(lines[1], 1, "A")
        self.assertEqual(lines[1]["retry_now"], 0)  # both failed: back-off
        self.assert_fail(lines[2], 1, "A")
        self.assertIsNone(self.session())
        self.assertIsNone(self.row()["master_key"])

    def test_unknown_device(self):
        self.assert_fail(self.one(serial="NOSUCHDEV"), 5, "A")

    def test_blocked_device(self):
        a = self.first_start()
        before = bytes(self.session()["session_key"]).hex()
        self.osapd.admin("device", "block", SERIAL)
        self.assert_fail(self.one("--state", self.state), 5, "C")
        self.assert_fail(self.one(), 5, "A")
        self.assertEqual(bytes(self.session()["session_key"]).hex(), before)
        self.osapd.admin("device", "unblock", SERIAL)
        self.assert_ok(self.one("--state", self.state), "C")
        self.assertEqual(self.row()["devid"], a["devid"])

    def test_bad_sign_path_a(self):
        self.assert_fail(self.one("--fault", "sign"), 19, "A")
        self.assertIsNone(self.session())

    def test_bad_sign_path_b(self):
        a = self.first_start()
        line = self.one("--devid", a["devid"], "--fault", "sign")
        self.assert_fail(line, 14, "B")
        self.assertEqual(bytes(self.session()["session_key"]).hex(), a["session_key"])

    def test_devid_mismatch(self):
        a = self.first_start()
        rc, lines = self.device("--devid", "X" * 32, "--master-key", a["master_key"],
                                "--attempts", "2")
        self.assert_fail(lines[0], 4, "C")
        self.assertEqual(lines[0]["forget"], 1)  # the devid: path A next
        self.assert_ok(lines[1], "A")
        self.assertEqual(lines[1]["devid"], a["devid"])

    def test_master_key_invalid(self):
        a = self.first_start()
        rc, lines = self.device("--devid", a["devid"], "--master-key", "0123456789ABCDEF",
                                "--attempts", "2")
        self.assert_fail(lines[0], 10, "C")
        self.assertEqual(lines[0]["forget"], 2)  # the master key: path B next
        self.assert_ok(lines[1], "B")

    def test_wrong_random_2(self):
        a = self.first_start()
        line = self.one("--state", self.state, "--fault", "random2")
        self.assert_fail(line, 18, "C")
        # nothing committed: the session is still path A's
        self.assertEqual(bytes(self.session()["session_key"]).hex(), a["session_key"])

    def test_no_das(self):
        lbstest.remove_das_nodes(self.osapd.data_dir)
        self.assert_fail(self.one(), 9, "A")
        # A node whose heartbeat is too old does not count either.
        lbstest.add_das_node(self.osapd.data_dir, "das-old", age_ms=10 * 60 * 1000)
        self.assert_fail(self.one(), 9, "A")
        lbstest.add_das_node(self.osapd.data_dir, "das-new")
        self.assert_ok(self.one(), "A")

    def test_out_of_order_and_malformed(self):
        caps = dict(lbstest.captures())
        msgs = [m for m in caps["sap_c_masterkey_lost_path_b"]["messages"]
                if m["service"] == "lbs" and m["dir"] == "dev->srv"]
        by_kind = {m["kind"].split()[0]: bytes.fromhex(m["hex"]) for m in msgs}
        cmsgs = [m for m in caps["sap_b_restart_path_c"]["messages"]
                 if m["service"] == "lbs" and m["dir"] == "dev->srv"]
        amsgs = [m for m in caps["sap_a_first_start"]["messages"]
                 if m["service"] == "lbs" and m["dir"] == "dev->srv"]
        cases = [
            # (first message, expected answer)
            (by_kind["0x4"], lbstest.error_answer(0x6, 2)),
            (bytes.fromhex(cmsgs[1]["hex"]), lbstest.error_answer(0xB, 2)),   # 0x9 first
            (by_kind["0xA"], lbstest.error_answer(0xB, 13)),                  # 0xA first
            (bytes.fromhex(amsgs[1]["hex"]), lbstest.error_answer(0x8, 2, True)),  # 0x72 first
            # 0x1 whose subserial length runs past the frame: malformed
            (bytes.fromhex("1a0a0101010102000050515253"), lbstest.error_answer(0x2, 3)),
            # reserved type 0x3
            (bytes.fromhex("3203010100"), lbstest.error_answer(0x2, 3)),
        ]
        for msg, want in cases:
            with self.subTest(first=msg[:4].hex()):
                s = lbstest.connect(self.port)
                s.sendall(msg)
                self.assertEqual(lbstest.recv_exact(s, len(want)).hex(), want.hex())
                self.assertTrue(lbstest.closed_by_peer(s))
                s.close()
        # After a good 0x1 (the capture's, valid for this registry), 0xA comes too early.
        s = lbstest.connect(self.port)
        s.sendall(bytes.fromhex(amsgs[0]["hex"]))
        ans = lbstest.recv_frame(s)
        self.assertEqual(ans[:7].hex(), "2a760101010000")
        s.sendall(bytes.fromhex(amsgs[2]["hex"]))
        self.assertEqual(lbstest.recv_exact(s, 6).hex(), lbstest.error_answer(0xB, 13).hex())
        self.assertTrue(lbstest.closed_by_peer(s))
        s.close()


if __name__ == "__main__":
    osaptest.main()

"""Byte-exact replays of the LBS part of every golden transcript against the real
LBS service over TCP.

lbs-harness runs the service library with the transcript's fixed server values
(ECDH private key, devid, session keys / random_2 through the random source, DAS
information) injected through the service's hooks. Each device message is sent as
recorded, each server message must come back byte for byte, and after the last
answer of a connection (success or error) the server must close it. A second pass
sends every device message in small pieces. Afterwards the store must hold what the
handshake established.
"""

import os
import random
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lbstest  # noqa: E402


def harness_args(cap):
    """lbs-harness options for a transcript: its registry, stored server state
    and fixed values."""
    sf = cap["server_fixed"]
    dev = cap["device"]
    serial = dev["subserial"]
    reg = sf["registry"][serial]
    mode = "licence" if dev["auth_mode"] == 1 else "sap"
    case = "any"
    if reg["accept_upper"] and not reg["accept_lower"]:
        case = "upper"
    elif reg["accept_lower"] and not reg["accept_upper"]:
        case = "lower"
    prev = cap.get("inputs_from_previous_scenario") or {}
    devid = prev.get("devid") or "-"
    mk = prev.get("master_key") or "-"
    path = cap["derived"]["path"]
    if path == "C":
        rng = "%02x" % sf["random_2"] + sf["session_keys_by_path"]["C"]
    elif path in ("A", "B"):
        rng = sf["session_keys_by_path"][path]
    else:
        rng = "00"  # no draws: every attempt fails before a session key exists
    das = sf["das"]
    return [
        "--device", "%s:%s:%s:%s:%s:%s" % (mode, serial, reg["vcode"], devid, mk, case),
        "--ecdh-private", sf["lbs_ecdh_private_hex"],
        "--devid", sf["devid"],
        "--rng", rng,
        "--das", "%s,%d,%d,%s,%s" % (das["address"], das["port"], das["udp_port"], das["domain"],
                                     das["server_id"]),
    ]


def lbs_connections(cap):
    """{conn: [messages in order]} for the LBS connections of a transcript."""
    conns = {}
    for m in sorted(cap["messages"], key=lambda m: m["order"]):
        if m["service"] == "lbs":
            conns.setdefault(m["conn"], []).append(m)
    return conns


class TestLbsReplay(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="osap-lbs-replay-")
        self.harness = None

    def tearDown(self):
        failed = any(e for _, e in getattr(self._outcome, "errors", []) if e)
        if self.harness:
            rc = self.harness.stop()
            if failed or rc != 0:
                sys.stderr.write("---- harness log ----\n%s\n" % self.harness.log_text()[-6000:])
            self.assertEqual(rc, 0, "lbs-harness exit status")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def replay(self, name, cap, pieces):
        self.harness = lbstest.Harness(self.tmp, harness_args(cap))
        rnd = random.Random(name)
        for conn, msgs in sorted(lbs_connections(cap).items()):
            s = lbstest.connect(self.harness.port)
            try:
                for m in msgs:
                    data = bytes.fromhex(m["hex"])
                    where = "%s conn %d order %d (%s)" % (name, conn, m["order"], m["kind"])
                    if m["dir"] == "dev->srv":
                        if pieces:
                            i = 0
                            while i < len(data):
                                n = rnd.randint(1, 7)
                                s.sendall(data[i:i + n])
                                i += n
                                time.sleep(0.001)
                        else:
                            s.sendall(data)
                    else:
                        got = lbstest.recv_exact(s, len(data))
                        self.assertEqual(got.hex(), data.hex(), where)
                # After the last answer (0xB, or an error) the server ends the connection.
                self.assertTrue(lbstest.closed_by_peer(s), "%s conn %d: not closed" % (name, conn))
            finally:
                s.close()

    def check_store(self, cap):
        """What the last successful handshake left in the store."""
        derived = cap["derived"]
        serial = cap["device"]["subserial"]
        row = lbstest.device_row(self.harness.data_dir, serial)
        sess = lbstest.session_row(self.harness.data_dir, serial)
        if derived["path"] is None:
            self.assertIsNone(sess)
            self.assertIsNone(row["master_key"])
            return
        self.assertIsNotNone(sess)
        self.assertEqual(sess["devid"], cap["server_fixed"]["devid"])
        self.assertEqual(bytes(sess["session_key"]).hex(), derived["session_key_hex"])
        self.assertEqual(row["devid"], cap["server_fixed"]["devid"])
        if derived["path"] in ("A", "B"):
            self.assertEqual(row["master_key"], derived["master_key"])
            used = derived["lbs_attempts"][-1]["share_key_variant_device_used"]
            self.assertEqual(row["share_key_case"], 1 if used == "upper" else 0)
        else:
            prev = cap["inputs_from_previous_scenario"]
            self.assertEqual(row["master_key"], prev["master_key"])


def _make(name, cap, pieces):
    def test(self):
        self.replay(name, cap, pieces)
        self.check_store(cap)
    return test


for _name, _cap in lbstest.captures():
    setattr(TestLbsReplay, "test_%s" % _name, _make(_name, _cap, False))
    setattr(TestLbsReplay, "test_%s_in_pieces" % _name, _make(_name, _cap, True))

if __name__ == "__main__":
    unittest.main(verbosity=2)

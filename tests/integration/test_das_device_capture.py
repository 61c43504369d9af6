"""The DAS part of the golden captures, replayed against the DAS with the
capture's session key and devid in the store: every byte the real device sent is
sent again, and every byte the reference server answered must come back exactly
(CONNACK 20 02 00 00, SUBACKs granting 1, PUBACKs, the shadow query_reply, PINGRESP,
UNSUBACKs). The capture's downlinks (attribute set, operation, shadow set) are
produced by platform requests through das_api.h; they too must be byte-identical
(same topic, Seq 1001..1003, packet ids 1..3, ciphertext), and the device's
recorded replies complete them. Afterwards the store holds the event once, the
reported attribute and the device's registration data. Ingest commits
asynchronously (only events are acknowledged after their commit), so what else
the store holds is waited for, with a deadline."""

import json
import unittest

import dastest
from dastest import raw

# Which platform request produces each downlink of the captures.
DOWNLINKS = {
    "model/attribute/set": ("set", "golden_domain", "golden_prop", "7"),
    "model/service/operate": ("operate", "golden_domain", "golden_action", '{"speed":3}'),
    "basic/shadow/set": ("shadow", "golden_domain", "golden_prop", "9"),
}


class TestCaptureReplay(dastest.DasTestCase):

    def setUp(self):
        super().setUp()
        self.provision("4LYV8SK7UKLBOUOVS6HXVX:A532NO6K0Q2O", dastest.KEY_A, licence=True)

    def replay(self, name):
        cap = dastest.capture(name)
        msgs = dastest.das_messages(cap)
        serial = cap["device"]["subserial"]
        key = [d["key_hex"] for d in msgs[0]["decrypted"]][0]
        dastest.store(self.osapd.data_dir, "session", serial, cap["server_fixed"]["devid"], key)
        h = self.harness or self.start()
        dev = dastest.Device(self.osapd.port("das"), key, serial)
        self.addCleanup(dev.close)
        requests = []
        for i, m in enumerate(msgs):
            data = bytes.fromhex(m["hex"])
            if m["dir"] == "dev->srv":
                dev.send(data)
                continue
            if "downlink" in m["kind"]:
                kind, domain, ident, value = DOWNLINKS[m["kind"].split("downlink ")[1]]
                requests.append(h.request(kind, domain, ident, value, serial=serial))
            got = dev.recv()
            wire = bytes([got.raw_first]) + raw.remlen(len(got.body)) + got.body
            self.assertEqual(wire.hex(), m["hex"],
                             "%s: message %d (%s) differs" % (name, m["order"], m["kind"]))
        self.assertTrue(dev.closed(), "the connection stays open after DISCONNECT")
        return cap, serial, requests

    def check_first_start(self, name):
        cap, serial, requests = self.replay(name)
        h = self.harness
        # The device's recorded replies completed the three requests.
        self.assertEqual(h.result(requests[0]), ("OK", 0, 1001, None))
        self.assertEqual(h.result(requests[1]), ("OK", 0, 1002, '{"result":"done"}'))
        self.assertEqual(h.result(requests[2]), ("OK", 0, 1003, None))
        # The event is stored once, with the capture's UUID and time.
        event = [m for m in dastest.das_messages(cap) if "/model/event/report/" in m["kind"]][0]
        body = json.loads(event["decrypted"][0]["plaintext_text_after_len_prefix"]
                          .split("}", 1)[1])
        events = self.events(serial)
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["uuid"], body["basic"]["UUID"])
        self.assertEqual((events[0]["domain"], events[0]["identifier"]),
                         ("golden_domain", "golden_event"))
        self.assertEqual(json.loads(events[0]["payload"]), body)
        self.assertEqual(events[0]["level"], 1)
        self.assertGreater(events[0]["device_time"], 1700000000000)
        # The shadow report is the attribute's value, with its version (acknowledged
        # at once, stored by ingest afterwards).
        attrs = self.wait_for(lambda: self.attributes(serial), what="the reported attribute")
        self.assertEqual(attrs, [{
            "child": "global", "resource": "0-global", "domain": "golden_domain",
            "identifier": "golden_prop", "value": "42", "version": 1}])
        # Registration data, and offline after the DISCONNECT.
        row = self.wait_for(lambda: (lambda r: r if not r["online"] else None)(
            self.device_row(serial)), what="device offline")
        reg = json.loads(dastest.das_messages(cap)[0]["decrypted"][0]["plaintext_text"])
        self.assertEqual(row["firmware"], reg["FirmwareVersion"])
        # Provisioned without a thing model: the DevType fills it, and is kept apart.
        self.assertEqual(row["model"], reg["DevType"])
        self.assertEqual(row["dev_type"], reg["DevType"])
        self.assertTrue(row["address"].startswith("127.0.0.1:"))
        self.assertTrue(row["das_node"])
        stats = h.stats()
        self.assertEqual(stats["events"], 1)
        self.assertEqual(stats["requests"], 3)
        self.assertEqual(stats["replies"], 3)
        self.assertEqual(stats["undecryptable"], 0)

    def test_sap_first_start(self):
        self.check_first_start("sap_a_first_start.json")

    def test_licence_first_start(self):
        self.check_first_start("licence_a_first_start.json")

    def test_other_paths_register_with_their_session_key(self):
        # Paths C and B, and the lower-case share key: other session keys, the
        # same DAS exchange (CONNECT, two SUBSCRIBEs, UNSUBSCRIBEs, DISCONNECT).
        for name in ("sap_b_restart_path_c.json", "sap_c_masterkey_lost_path_b.json",
                     "sap_e_lowercase_sharekey_accepted.json", "licence_b_restart_path_c.json",
                     "licence_c_masterkey_lost_path_b.json",
                     "licence_e_lowercase_sharekey_accepted.json"):
            with self.subTest(capture=name):
                self.replay(name)

    def test_capture_connect_with_another_session_key_is_sent_back_to_the_lbs(self):
        # The stored session is path A's key; the capture of path C registers with
        # its own key: the will does not decrypt, CONNACK 11.
        cap = dastest.capture("sap_b_restart_path_c.json")
        connect = bytes.fromhex(dastest.das_messages(cap)[0]["hex"])
        self.start()
        dev = self.device()
        dev.send(connect)
        self.assertEqual(dev.recv().body.hex(), "000b")
        self.assertTrue(dev.closed())


if __name__ == "__main__":
    unittest.main(verbosity=2)

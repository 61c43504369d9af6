"""osapd administration commands on the store: devices (add, import, list, show,
rm, block, unblock), MQTT users and ACLs, API tokens; errors and exit codes;
use while the daemon runs; secrets kept out of messages."""

import base64
import hashlib
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import osaptest  # noqa: E402


class AdminTestCase(osaptest.OsapTestCase):

    def db(self):
        return sqlite3.connect(os.path.join(self.osapd.data_dir, "osap.db"))

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def serials(self, *args):
        r = self.osapd.admin("device", "list", "--json", *args)
        return [d["serial"] for d in json.loads(r.stdout)]


class TestDevices(AdminTestCase):

    def test_add_show_list(self):
        r = self.osapd.admin("device", "add", "--serial", "Q12345678", "--code", "ABCDEF",
                             "--model", "CS-C6N", "--name", "front door")
        self.assertEqual(r.stdout, "added device Q12345678 (sap)\n")
        self.osapd.admin("device", "add", "--serial", "pk1:dev1", "--licence", "LIC-0001")
        r = self.osapd.admin("device", "show", "Q12345678")
        self.assertIn("serial:          Q12345678\n", r.stdout)
        self.assertIn("auth mode:       sap\n", r.stdout)
        self.assertIn("model:           CS-C6N\n", r.stdout)
        self.assertIn("name:            front door\n", r.stdout)
        self.assertNotIn("ABCDEF", r.stdout)  # the code is hidden unless asked for
        r = self.osapd.admin("device", "show", "--secrets", "Q12345678")
        self.assertIn("code:            ABCDEF\n", r.stdout)
        r = self.osapd.admin("device", "show", "--json", "--serial", "pk1:dev1")
        dev = json.loads(r.stdout)
        self.assertEqual(dev["auth_mode"], "licence")
        self.assertIsNone(dev["devid"])
        self.assertFalse(dev["online"])
        self.assertNotIn("secret", dev)
        r = self.osapd.admin("device", "list")
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith("SERIAL"))
        self.assertTrue(lines[1].startswith("Q12345678"))
        self.assertIn("front door", lines[1])
        self.assertTrue(lines[2].startswith("pk1:dev1"))
        self.assertIn("licence", lines[2])
        r = self.osapd.admin("device", "list", "--json", "--secrets")
        devs = json.loads(r.stdout)
        self.assertEqual([d["secret"] for d in devs], ["ABCDEF", "LIC-0001"])
        # Stored as given: the LBS derives keys from it.
        row = self.db().execute("SELECT secret, auth_mode FROM devices WHERE serial = ?",
                                ("pk1:dev1",)).fetchone()
        self.assertEqual(row, ("LIC-0001", "licence"))

    def test_add_errors(self):
        self.osapd.admin("device", "add", "--serial", "DUP1", "--code", "ABCDEF")
        r = self.osapd.admin("device", "add", "--serial", "DUP1", "--code", "OTHER1", expect=1)
        self.assertIn("device DUP1 already exists", r.stderr)
        cases = [
            (["--serial", "bad/serial", "--code", "SECRET77"], "invalid serial"),
            (["--serial", "bad+x", "--code", "SECRET77"], "invalid serial"),
            (["--serial", "bad#x", "--code", "SECRET77"], "invalid serial"),
            (["--serial", "S" * 72, "--code", "SECRET77"], "invalid serial"),
            (["--serial", "with space", "--code", "SECRET77"], "invalid serial"),
            (["--serial", "OK1", "--code", "S" * 32], "invalid verification code"),
            (["--serial", "OK1", "--code", "has space"], "invalid verification code"),
            (["--serial", "pk:dn", "--code", "SECRET77"], "licence-mode serial"),
            (["--serial", "nocolon", "--licence", "SECRET77"], "productKey:deviceName"),
            (["--serial", ":dn", "--licence", "SECRET77"], "productKey:deviceName"),
        ]
        for args, message in cases:
            r = self.osapd.admin("device", "add", *args, expect=1)
            self.assertIn(message, r.stderr, args)
            self.assertNotIn("SECRET77", r.stderr)  # codes never echoed
        self.osapd.admin("device", "add", "--serial", "S" * 71, "--code", "C" * 31)
        for args in (["--serial", "X1"], ["--code", "C"],
                     ["--serial", "X1", "--code", "C", "--licence", "L"],
                     ["--serial", "X1", "--code", "C", "extra"],
                     ["--serial", "X1", "--code", "C", "--json"]):
            self.osapd.admin("device", "add", *args, expect=2)

    def test_import_all_or_nothing(self):
        good = self.write("good.csv", "# serial,code,model\n"
                                      "A1,CODE01,C6N\n"
                                      "\n"
                                      "  A2 , CODE02  \r\n"
                                      "pk9:dev9,LICENCE9,gateway\n")
        r = self.osapd.admin("device", "import", good)
        self.assertEqual(r.stdout, "imported 3 devices\n")
        self.assertEqual(self.serials(), ["A1", "A2", "pk9:dev9"])
        devs = {d["serial"]: d for d in json.loads(
            self.osapd.admin("device", "list", "--json", "--secrets").stdout)}
        self.assertEqual(devs["A2"]["secret"], "CODE02")
        self.assertEqual(devs["A2"]["model"], "")
        self.assertEqual(devs["pk9:dev9"]["auth_mode"], "licence")
        self.assertEqual(devs["A1"]["model"], "C6N")

        bad = self.write("bad.csv", "B1,CODE11\n"          # 1 good
                                    "B2\n"                 # 2 too few fields
                                    "bad/serial,CODE13\n"  # 3 bad serial
                                    "B4,CODE14,m,extra\n"  # 4 too many fields
                                    "A1,CODE15\n"          # 5 exists in the store
                                    "B6,CODE16\n"          # 6 good
                                    "B6,CODE17\n"          # 7 repeats line 6
                                    "B8,has space\n")      # 8 bad code
        r = self.osapd.admin("device", "import", bad, expect=1)
        for line in (2, 3, 4, 5, 7, 8):
            self.assertIn("%s:%d:" % (bad, line), r.stderr)
        for line in (1, 6):
            self.assertNotIn("%s:%d:" % (bad, line), r.stderr)
        self.assertIn("6 bad lines; nothing imported", r.stderr)
        self.assertNotIn("CODE1", r.stderr)
        self.assertEqual(self.serials(), ["A1", "A2", "pk9:dev9"])

        r = self.osapd.admin("device", "import", "--skip-bad", bad)
        self.assertEqual(r.stdout, "imported 2 devices, skipped 6 bad lines\n")
        self.assertEqual(self.serials("--prefix", "B"), ["B1", "B6"])

        r = self.osapd.admin("device", "import", "-", input="C1,CODE21\nC2,CODE22\n")
        self.assertEqual(r.stdout, "imported 2 devices\n")
        # A spreadsheet's UTF-8 byte order mark does not spoil the first serial.
        bom = self.write("bom.csv", "\ufeffC3,CODE23\n")
        r = self.osapd.admin("device", "import", bom)
        self.assertEqual(self.serials("--prefix", "C"), ["C1", "C2", "C3"])
        r = self.osapd.admin("device", "import", os.path.join(self.tmp, "missing.csv"),
                             expect=1)
        self.assertIn("cannot open", r.stderr)

    def test_import_lines_with_nul_bytes(self):
        # What follows a NUL byte belongs to its line: the rest of a long line is
        # never read as a line (a device) of its own.
        text = "N1,CODE\0" + "y" * 1015 + "Z9,CODE9\nX9,CODE9\nN2,CO\0DE\n"
        r = self.osapd.admin("device", "import", "-", input=text, expect=1)
        self.assertIn("-:1: line longer than 1022 characters", r.stderr)
        self.assertIn("-:3: line contains a NUL byte", r.stderr)
        self.assertIn("2 bad lines; nothing imported", r.stderr)
        r = self.osapd.admin("device", "import", "--skip-bad", "-", input=text)
        self.assertEqual(r.stdout, "imported 1 device, skipped 2 bad lines\n")
        self.assertEqual(self.serials(), ["X9"])

    def test_rm_block_unblock_and_filters(self):
        self.osapd.admin("device", "import", "-",
                         input="D1,CODE1,m1\nD2,CODE2,m2\nD3,CODE3,m1\nE1,CODE4,m2\n")
        r = self.osapd.admin("device", "block", "D1", "D3")
        self.assertEqual(r.stdout, "blocked D1\nblocked D3\n")
        self.assertEqual(self.serials("--blocked"), ["D1", "D3"])
        self.assertEqual(self.serials("--unblocked"), ["D2", "E1"])
        self.assertEqual(self.serials("--model", "m1"), ["D1", "D3"])
        self.assertEqual(self.serials("--prefix", "D", "--limit", "2"), ["D1", "D2"])
        self.assertEqual(self.serials("--offline"), ["D1", "D2", "D3", "E1"])
        self.assertEqual(self.serials("--online"), [])
        self.osapd.admin("device", "unblock", "--serial", "D1")
        self.assertEqual(self.serials("--blocked"), ["D3"])
        r = self.osapd.admin("device", "rm", "D2", "NOPE", "E1", expect=1)
        self.assertEqual(r.stdout, "removed D2\nremoved E1\n")
        self.assertIn("no device NOPE", r.stderr)
        self.assertEqual(self.serials(), ["D1", "D3"])
        self.osapd.admin("device", "show", "D2", expect=1)
        self.osapd.admin("device", "block", "NOPE", expect=1)
        self.osapd.admin("device", "rm", expect=2)
        r = self.osapd.admin("device", "list", "--prefix", "ZZZ")
        self.assertEqual(r.stdout, "")
        self.assertIn("no devices", r.stderr)

    def test_admin_while_the_daemon_runs(self):
        self.osapd.start()
        for i in range(20):
            self.osapd.admin("device", "add", "--serial", "LIVE%02d" % i, "--code", "CODE")
        self.osapd.admin("device", "import", "-",
                         input="".join("BULK%03d,CODE\n" % i for i in range(200)))
        self.assertEqual(len(self.serials()), 220)
        self.assertEqual(self.osapd.stop(), 0)
        self.assertNotIn("CODE", self.osapd.log_text())

    def test_bad_config_for_admin(self):
        r = self.osapd.run("device", "list", "-c", os.path.join(self.tmp, "nope.conf"),
                           config=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open", r.stderr)


class TestUsers(AdminTestCase):
    settings = {"das": {"password_iterations": 1000}}

    def stored_hash(self, user):
        row = self.db().execute("SELECT password_hash FROM mqtt_users WHERE username = ?",
                                (user,)).fetchone()
        return row[0] if row else None

    def assertVerifies(self, stored, password):
        # mosquitto's "$7$" format: PBKDF2-HMAC-SHA512, base64 salt and hash.
        _, kind, iterations, salt, digest = stored.split("$")
        self.assertEqual(kind, "7")
        got = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt),
                                  int(iterations), 64)
        self.assertEqual(base64.b64encode(got).decode(), digest)

    def test_users(self):
        r = self.osapd.admin("user", "add", "--user", "app1", "--password", "s3cret!")
        self.assertEqual(r.stdout, "added user app1\n")
        h = self.stored_hash("app1")
        self.assertTrue(h.startswith("$7$1000$"))
        self.assertVerifies(h, "s3cret!")
        # Password from standard input (not a terminal: the first line).
        self.osapd.admin("user", "add", "--user", "app2", input="from stdin\n")
        self.assertVerifies(self.stored_hash("app2"), "from stdin")
        r = self.osapd.admin("user", "add", "--user", "app2", "--password", "x", expect=1)
        self.assertIn("already exists", r.stderr)
        self.osapd.admin("user", "add", "--user", "app3", input="", expect=1)
        self.osapd.admin("user", "passwd", "--user", "app2", input="changed\n")
        self.assertVerifies(self.stored_hash("app2"), "changed")
        self.osapd.admin("user", "passwd", "--user", "nobody", "--password", "x", expect=1)

        r = self.osapd.admin("user", "acl", "--user", "app1", "--topic", "$osap/#",
                             "--access", "read")
        self.assertEqual(r.stdout, "app1 may read $osap/#\n")
        self.osapd.admin("user", "acl", "--user", "app1", "--topic", "cmd/+/set",
                         "--access", "write")
        self.osapd.admin("user", "acl", "--user", "app1", "--topic", "$osap/#",
                         "--access", "readwrite")  # replaces
        for bad in ("a/#/b", "a+", "#x", ""):
            self.osapd.admin("user", "acl", "--user", "app1", "--topic", bad,
                             "--access", "read", expect=1)
        self.osapd.admin("user", "acl", "--user", "app1", "--topic", "x",
                         "--access", "rw", expect=2)
        self.osapd.admin("user", "acl", "--user", "nobody", "--topic", "x",
                         "--access", "read", expect=1)
        users = json.loads(self.osapd.admin("user", "list", "--json").stdout)
        self.assertEqual([u["username"] for u in users], ["app1", "app2"])
        self.assertEqual(users[0]["acl"], [{"pattern": "$osap/#", "access": "readwrite"},
                                           {"pattern": "cmd/+/set", "access": "write"}])
        self.assertEqual(users[1]["acl"], [])
        r = self.osapd.admin("user", "list")
        self.assertIn("readwrite:$osap/#", r.stdout)
        self.assertNotIn("$7$", r.stdout)  # hashes are not shown
        self.osapd.admin("user", "acl", "--user", "app1", "--topic", "cmd/+/set", "--remove")
        self.osapd.admin("user", "acl", "--user", "app1", "--topic", "cmd/+/set", "--remove",
                         expect=1)
        self.osapd.admin("user", "rm", "--user", "app1")
        self.osapd.admin("user", "rm", "--user", "app1", expect=1)
        self.assertEqual(self.db().execute("SELECT count(*) FROM mqtt_acls").fetchone()[0], 0)
        self.osapd.admin("user", "add", expect=2)
        self.osapd.admin("user", "list", "--user", "x", expect=2)


class TestTokens(AdminTestCase):

    def test_tokens(self):
        r = self.osapd.admin("token", "create", "--name", "ci")
        token = r.stdout.strip()
        self.assertRegex(token, r"^osap_[A-Za-z0-9_-]{43}$")
        self.assertIn("shown only this once", r.stderr)
        row = self.db().execute("SELECT name, token_hash FROM api_tokens").fetchone()
        self.assertEqual(row, ("ci", hashlib.sha256(token.encode()).hexdigest()))
        with open(os.path.join(self.osapd.data_dir, "osap.db"), "rb") as f:
            self.assertNotIn(token.encode(), f.read())
        r = self.osapd.admin("token", "create", "--name", "ci", expect=1)
        self.assertIn("exists already", r.stderr)
        token2 = self.osapd.admin("token", "create", "--name", "ops").stdout.strip()
        self.assertNotEqual(token, token2)
        r = self.osapd.admin("token", "list")
        self.assertEqual(r.stdout.count("\n"), 3)
        self.assertNotIn(token, r.stdout)
        tokens = json.loads(self.osapd.admin("token", "list", "--json").stdout)
        self.assertEqual([t["name"] for t in tokens], ["ci", "ops"])
        self.assertIsNone(tokens[0]["last_used"])
        self.osapd.admin("token", "revoke", "--name", "ci")
        self.osapd.admin("token", "revoke", "--name", "ci", expect=1)
        self.assertEqual([t["name"] for t in json.loads(
            self.osapd.admin("token", "list", "--json").stdout)], ["ops"])
        self.osapd.admin("token", "create", expect=2)
        self.osapd.admin("token", "list", "--name", "x", expect=2)


if __name__ == "__main__":
    osaptest.main()

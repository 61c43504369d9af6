"""osapctl against a live osapd: the device registry (add, list, show, block,
unblock, rm), pictures (put, get, ls, rm), events query, table and JSON
output, and the exit code of every failure class (API error 1, usage 2,
connection 3, offline device 4)."""

import json
import os
import socket

import ctltest


class TestRegistry(ctltest.PlatformTestCase):

    def setUp(self):
        super().setUp()
        self.start_platform()

    def test_device_add_list_show_block_rm(self):
        r = self.ctl("device", "add", "CTLDEV001", "--code", "ABCDEF", "--model", "cam",
                     "--name", "Front door")
        self.assertIn("serial:", r.out)
        self.assertIn("CTLDEV001", r.out)
        self.assertNotIn("ABCDEF", r.out)  # the code is never shown
        dev = self.ctl_json("device", "add", "pk1:dn1", "--licence", "LICENCE123")
        self.assertEqual(dev["serial"], "pk1:dn1")
        self.assertEqual(dev["auth_mode"], "licence")
        self.assertFalse(dev["online"])

        # table: a header and one row per device
        r = self.ctl("device", "list")
        lines = r.out.splitlines()
        self.assertEqual(lines[0].split()[:3], ["SERIAL", "STATE", "BLOCKED"])
        rows = {l.split()[0]: l for l in lines[1:]}
        self.assertEqual(set(rows), {"CTLDEV001", "pk1:dn1"})
        self.assertIn("Front door", rows["CTLDEV001"])
        self.assertIn("offline", rows["CTLDEV001"])

        # --json is exactly what the API answers
        doc = self.ctl_json("device", "list")
        status, api_doc = self.api("GET", "/api/v1/devices")
        self.assertEqual(status, 200)
        self.assertEqual(doc, api_doc)

        # show, with a licence serial (':' is escaped in the path)
        show = self.ctl_json("device", "show", "pk1:dn1")
        self.assertEqual(show["serial"], "pk1:dn1")
        r = self.ctl("device", "show", "CTLDEV001")
        fields = dict(l.split(":", 1) for l in r.out.splitlines())
        self.assertEqual(fields["name"].strip(), "Front door")
        self.assertEqual(fields["model"].strip(), "cam")
        self.assertEqual(fields["blocked"].strip(), "false")

        # block / unblock and the filters
        self.assertTrue(self.ctl_json("device", "block", "CTLDEV001")["blocked"])
        blocked = self.ctl_json("device", "list", "--blocked")
        self.assertEqual([d["serial"] for d in blocked["items"]], ["CTLDEV001"])
        self.assertIn("yes", self.ctl("device", "list", "--blocked").out.splitlines()[1])
        self.assertFalse(self.ctl_json("device", "unblock", "CTLDEV001")["blocked"])
        self.assertEqual(self.ctl_json("device", "list", "--blocked")["items"], [])
        found = self.ctl_json("device", "list", "--search", "front")
        self.assertEqual([d["serial"] for d in found["items"]], ["CTLDEV001"])
        self.assertEqual(self.ctl_json("device", "list", "--online")["items"], [])

        # rm, then the device is gone: API error, exit 1, the code printed
        r = self.ctl("device", "rm", "CTLDEV001")
        self.assertIn("removed", r.out)
        r = self.ctl("device", "show", "CTLDEV001", expect=1)
        self.assertIn("device_not_found", r.err)
        r = self.ctl("device", "rm", "CTLDEV001", expect=1)
        self.assertIn("device_not_found", r.err)
        # with --json the API's error body is on standard output
        r = self.ctl("--json", "device", "show", "CTLDEV001", expect=1)
        self.assertEqual(json.loads(r.out)["error"]["code"], "device_not_found")

        # a duplicate is an API error too
        r = self.ctl("device", "add", "pk1:dn1", "--licence", "L2", expect=1)
        self.assertIn("device_exists", r.err)

    def test_pagination(self):
        for i in range(7):
            self.ctl("device", "add", "PAGE%03d" % i, "--code", "ABCDEF")
        page = self.ctl_json("device", "list", "--limit", "3")
        self.assertEqual(len(page["items"]), 3)
        self.assertTrue(page["next_cursor"])
        page2 = self.ctl_json("device", "list", "--limit", "3", "--cursor", page["next_cursor"])
        self.assertEqual([d["serial"] for d in page2["items"]], ["PAGE003", "PAGE004", "PAGE005"])
        every = self.ctl_json("device", "list", "--limit", "3", "--all")
        self.assertEqual([d["serial"] for d in every["items"]], ["PAGE%03d" % i for i in range(7)])
        self.assertIsNone(every["next_cursor"])
        r = self.ctl("device", "list", "--limit", "3")
        self.assertEqual(len(r.out.splitlines()), 4)
        self.assertIn("--cursor", r.err)
        r = self.ctl("device", "list", "--limit", "3", "--all")
        self.assertEqual(len(r.out.splitlines()), 8)

    def test_pictures(self):
        self.ctl("device", "add", "CTLPIC001", "--code", "ABCDEF")
        path = os.path.join(self.tmp, "p.png")
        data = ctltest.png()
        with open(path, "wb") as f:
            f.write(data)
        pic = self.ctl_json("picture", "put", path, "--serial", "CTLPIC001")
        self.assertEqual(pic["content_type"], "image/png")
        self.assertEqual(pic["size"], len(data))
        self.assertEqual(pic["serial"], "CTLPIC001")
        sha = pic["sha256"]
        # the same bytes again: stored once
        r = self.ctl("picture", "put", path)
        self.assertIn(sha, r.out)
        self.assertIn("already", r.err)

        out = os.path.join(self.tmp, "got.png")
        self.ctl("picture", "get", sha, "-o", out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertFalse(os.path.exists(out + ".part"))
        r = self.ctl("picture", "get", sha)  # to a pipe: the bytes themselves
        self.assertEqual(r.raw, data)

        r = self.ctl("picture", "ls", "--serial", "CTLPIC001")
        self.assertEqual(r.out.splitlines()[0].split(), ["SHA256", "TYPE", "SIZE", "SERIAL",
                                                         "EVENT", "CREATED"])
        self.assertTrue(r.out.splitlines()[1].startswith(sha))
        listed = self.ctl_json("picture", "ls")
        self.assertEqual([p["sha256"] for p in listed["items"]], [sha])

        self.ctl("picture", "rm", sha)
        r = self.ctl("picture", "get", sha, "-o", out + "2", expect=1)
        self.assertIn("picture_not_found", r.err)
        self.assertFalse(os.path.exists(out + "2"))
        self.assertFalse(os.path.exists(out + "2.part"))
        self.assertEqual(self.ctl_json("picture", "ls")["items"], [])

        # not a picture: the API refuses it (415), exit 1
        bad = os.path.join(self.tmp, "bad.txt")
        with open(bad, "w") as f:
            f.write("hello, not a picture\n")
        r = self.ctl("picture", "put", bad, expect=1)
        self.assertIn("unsupported_media_type", r.err)

    def test_events_query_empty(self):
        r = self.ctl("events", "query")
        self.assertEqual(r.out.strip(), "(none)")
        self.assertEqual(self.ctl_json("events", "query", "--limit", "5"),
                         {"items": [], "next_cursor": None})
        r = self.ctl("events", "query", "--since", "not-a-time", expect=1)
        self.assertIn("invalid_parameter", r.err)

    def test_offline_device_exit_4(self):
        self.ctl("device", "add", "CTLOFF001", "--code", "ABCDEF")
        r = self.ctl("op", "call", "CTLOFF001", "Ptz", "Goto", '{"preset":1}', expect=4)
        self.assertIn("device_offline", r.err)
        # an attribute set keeps the desired value for later
        r = self.ctl("--json", "attr", "set", "CTLOFF001", "Light", "Level", "70", expect=4)
        body = json.loads(r.out)
        self.assertEqual(body["error"]["code"], "device_offline")
        self.assertTrue(body["desired"]["stored"])
        attrs = self.ctl_json("attr", "get", "CTLOFF001")
        self.assertEqual([(d["domain"], d["identifier"], d["value"]) for d in attrs["desired"]],
                         [("Light", "Level", 70)])
        r = self.ctl("attr", "get", "CTLOFF001")
        self.assertIn("desired values waiting", r.out)
        # asynchronously: accepted, then the request says offline (exit 4)
        acc = self.ctl_json("op", "call", "CTLOFF001", "Ptz", "Goto", "--async")
        self.assertEqual(acc["status"], "pending")
        r = self.ctl("request", "show", str(acc["request_id"]), "--wait", expect=4)
        self.assertIn("offline", r.out)

    def test_exit_codes(self):
        # bad token: 401 from the API, exit 1 with the code printed
        r = self.ctl("device", "list", token="osap_" + "x" * 43, expect=1)
        self.assertIn("unauthorized", r.err)
        r = self.ctl("device", "list", token=False, expect=1)
        self.assertIn("unauthorized", r.err)
        # no server: exit 3
        port = ctltest.osaptest.free_port()
        r = self.ctl("device", "list", url="http://127.0.0.1:%d" % port, expect=3)
        self.assertIn("cannot connect", r.err)
        r = self.ctl("device", "list", url="http://no-such-host.invalid", expect=3)
        # a server that never answers: exit 4 at --timeout
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        try:
            r = self.ctl("--timeout", "1", "device", "list",
                         url="http://127.0.0.1:%d" % silent.getsockname()[1], expect=4)
            self.assertIn("no response", r.err)
        finally:
            silent.close()
        # usage: exit 2
        for args in (["device"], ["device", "frob"], ["nothing"], ["device", "show"],
                     ["device", "show", "A", "B"], ["device", "add", "X"],
                     ["device", "add", "X", "--code", "A", "--licence", "B"],
                     ["device", "list", "--limit", "0"], ["device", "list", "--bogus"],
                     ["attr", "set", "S", "D", "I", "not json"], ["op", "call", "S", "D"],
                     ["request", "show", "abc"], ["picture", "get", "123"],
                     ["events", "tail", "--count", "x"], ["--timeout", "-1", "device", "list"],
                     ["--url", "ftp://x", "device", "list"]):
            r = self.ctl(*args, expect=2)
            self.assertTrue(r.err, args)
        self.ctl("device", "list", url="gopher://x", expect=2)
        r = self.ctl("--help")
        self.assertIn("usage: osapctl", r.out)

    def test_token_sources(self):
        # --token, --token-file and OSAP_TOKEN; --url and OSAP_URL
        self.ctl("--token", self.token, "device", "list", token=False)
        tf = os.path.join(self.tmp, "token")
        with open(tf, "w") as f:
            f.write(self.token + "\n")
        self.ctl("--token-file", tf, "device", "list", token=False)
        self.ctl("--url", self.url, "device", "list", url="http://127.0.0.1:1")
        # global options after the command work too
        doc = json.loads(self.ctl("device", "list", "--json").out)
        self.assertEqual(doc["items"], [])


if __name__ == "__main__":
    ctltest.osaptest.main()

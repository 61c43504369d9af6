"""Platform API, events: devices raise events (QoS 1), the API lists them newest
first with filters and cursor pagination, and the live stream (Server-Sent
Events) shows each event once it is acknowledged, status changes and attribute
reports as their own event types, and resumes from the store with
Last-Event-ID."""

import time
import urllib.parse

import apitest


class TestEvents(apitest.ApiTestCase):

    def raise_events(self, d, specs):
        """Raise (domain, identifier, body) events and wait for their PUBACKs."""
        ids = [d.event(dom, ident, body) for dom, ident, body in specs]
        d.wait_acked(ids)
        return ids

    def test_queries(self):
        a = self.online_device("EV0001")
        b = self.online_device("EV0002")
        t0 = time.time()
        self.raise_events(a, [("Alarm", "Motion", {"n": i, "zone": i % 2}) for i in range(5)])
        self.raise_events(b, [("Door", "Open", {"n": 100})])
        self.raise_events(a, [("Door", "Open", {"n": 5})])

        r = self.api.get("/api/v1/events")
        self.assertEqual(r.status, 200, r)
        items = r.json["items"]
        self.assertEqual([e["payload"]["n"] for e in items], [5, 100, 4, 3, 2, 1, 0])
        ids = [e["id"] for e in items]
        self.assertEqual(ids, sorted(ids, reverse=True))
        e = items[0]
        self.assertEqual((e["serial"], e["child"], e["resource"], e["domain"], e["identifier"]),
                         ("EV0001", "global", "0-global", "Door", "Open"))
        self.assertTrue(e["uuid"])  # the SDK adds basic.UUID
        self.assertIn("basic", e["payload"])
        self.assertTrue(e["received_at"].endswith("Z"))
        self.assertIsInstance(e["level"], int)

        # Per device, and filters.
        r = self.api.get("/api/v1/devices/EV0002/events")
        self.assertEqual([e["payload"]["n"] for e in r.json["items"]], [100])
        r = self.api.get("/api/v1/events?serial=EV0001&domain=Alarm")
        self.assertEqual([e["payload"]["n"] for e in r.json["items"]], [4, 3, 2, 1, 0])
        r = self.api.get("/api/v1/events?identifier=Open")
        self.assertEqual([e["payload"]["n"] for e in r.json["items"]], [5, 100])
        r = self.api.get("/api/v1/events?level=0")
        self.assertEqual(len(r.json["items"]), 7)
        r = self.api.get("/api/v1/events?level=3")
        self.assertEqual(r.json["items"], [])
        # Time range: all after t0 - 1 s, none before, RFC 3339 or milliseconds.
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 - 1))
        r = self.api.get("/api/v1/events?since=" + since)
        self.assertEqual(len(r.json["items"]), 7)
        r = self.api.get("/api/v1/events?until=%d" % int((t0 - 60) * 1000))
        self.assertEqual(r.json["items"], [])
        r = self.api.get("/api/v1/events?since=" + urllib.parse.quote(
            time.strftime("%Y-%m-%dT%H:%M:%S.500+00:00", time.gmtime(t0 + 3600))))
        self.assertEqual(r.json["items"], [])

        # Pages of 3: every event once, newest first.
        got, cursor = [], None
        while True:
            r = self.api.get("/api/v1/events?limit=3" + ("&cursor=" + cursor if cursor else ""))
            self.assertEqual(r.status, 200, r)
            got += [e["id"] for e in r.json["items"]]
            cursor = r.json["next_cursor"]
            if not cursor:
                break
        self.assertEqual(got, ids)
        # A device cursor is not an event cursor.
        dev_cursor = self.api.get("/api/v1/devices?limit=1").json["next_cursor"]
        self.assertError(self.api.get("/api/v1/events?cursor=" + dev_cursor), 400,
                         "invalid_cursor", "cursor")

        for bad in ("since=yesterday", "until=2026-13-01T00:00:00Z", "level=x", "domain=a/b",
                    "serial=a%20b", "limit=-1"):
            r = self.api.get("/api/v1/events?" + bad)
            self.assertEqual(r.status, 400, (bad, r))
            self.assertEqual(r.json["error"]["field"], bad.split("=")[0])
        self.assertError(self.api.get("/api/v1/devices/NOPE/events"), 404, "device_not_found")

    def test_stream(self):
        d = self.online_device("EV0003")
        other = self.online_device("EV0004")
        all_ = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream", self.token)
        one = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream?serial=EV0003",
                                self.token)
        self.assertEqual(all_.status, 200)
        self.assertEqual(all_.headers.get("content-type"), "text/event-stream")
        time.sleep(0.5)  # both are listening

        eid = d.event("Alarm", "Motion", {"n": 1})
        d.wait_acked([eid])
        ev = all_.next(pred=lambda e: e.get("event") == "event")
        self.assertEqual(ev["json"]["serial"], "EV0003")
        self.assertEqual(ev["json"]["payload"]["n"], 1)
        self.assertEqual(int(ev["id"]), ev["json"]["id"])
        stored = self.api.get("/api/v1/events?serial=EV0003").json["items"][0]
        self.assertEqual(stored, ev["json"])  # the stream shows what the store holds
        ev1 = one.next(pred=lambda e: e.get("event") == "event")
        self.assertEqual(ev1["id"], ev["id"])

        # Another device's event reaches the unfiltered stream only.
        oid = other.event("Door", "Open", {"n": 2})
        other.wait_acked([oid])
        ev = all_.next(pred=lambda e: e.get("event") == "event")
        self.assertEqual(ev["json"]["serial"], "EV0004")

        # Attribute reports and status changes are their own event types.
        d.attr("Light", "Brightness", 77)
        ev = one.next(pred=lambda e: e.get("event") == "attribute")
        self.assertNotIn("id", ev)
        self.assertEqual((ev["json"]["serial"], ev["json"]["domain"], ev["json"]["identifier"],
                          ev["json"]["value"]), ("EV0003", "Light", "Brightness", 77))
        d.stop()
        ev = one.next(pred=lambda e: e.get("event") == "status")
        self.assertEqual(ev["json"]["serial"], "EV0003")
        self.assertFalse(ev["json"]["online"])
        # Nothing of EV0004 reached the filtered stream.
        seen = []
        while not one.events.empty():
            seen.append(one.events.get())
        self.assertFalse([e for e in seen if "EV0004" in e.get("data", "")])

        # Types filter.
        only_status = apitest.SseReader(self.osapd.port("api"),
                                        "/api/v1/events/stream?types=status", self.token)
        time.sleep(0.3)
        oid = other.event("Door", "Open", {"n": 3})
        other.wait_acked([oid])
        other.stop()
        ev = only_status.next()
        self.assertEqual(ev["event"], "status")
        self.assertEqual(ev["json"]["serial"], "EV0004")
        for s in (all_, one, only_status):
            s.close()

        # Bad requests.
        bad = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream?types=video",
                                self.token)
        self.assertEqual(bad.status, 400)
        bad.close()
        bad = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream?serial=NOPE",
                                self.token)
        self.assertEqual(bad.status, 404)
        bad.close()
        bad = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream", "osap_wrong")
        self.assertEqual(bad.status, 401)
        bad.close()
        # EventSource clients may give the token as a parameter.
        s = apitest.SseReader(self.osapd.port("api"),
                              "/api/v1/events/stream?access_token=" + self.token, "ignored",
                              headers={"Authorization": "Bearer " + self.token})
        self.assertEqual(s.status, 200)
        s.close()

    def test_resume_with_last_event_id(self):
        d = self.online_device("EV0005")
        ids = self.raise_events(d, [("Alarm", "Motion", {"n": i}) for i in range(6)])
        stored = [e["id"] for e in self.api.get("/api/v1/events?serial=EV0005").json["items"]]
        stored.reverse()  # oldest first
        self.assertEqual(len(stored), len(ids))

        # Resume after the second: the four later ones, oldest first, then live ones.
        s = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream", self.token,
                              headers={"Last-Event-ID": str(stored[1])})
        got = [int(s.next(pred=lambda e: e.get("event") == "event")["id"]) for _ in range(4)]
        self.assertEqual(got, stored[2:])
        live = d.event("Alarm", "Motion", {"n": 6})
        d.wait_acked([live])
        ev = s.next(pred=lambda e: e.get("event") == "event")
        self.assertEqual(ev["json"]["payload"]["n"], 6)
        self.assertGreater(int(ev["id"]), stored[-1])
        s.close()

    def test_resume_in_bounded_steps(self):
        self.osapd.stop()
        self.osapd.settings["api"]["stream_catchup_max"] = 2
        self.osapd.write_config()
        self.start_osapd()
        d = self.online_device("EV0006")
        self.raise_events(d, [("Alarm", "Motion", {"n": i}) for i in range(5)])
        stored = sorted(e["id"] for e in
                        self.api.get("/api/v1/events?serial=EV0006").json["items"])
        # Each connection replays at most 2 and ends; the client continues from
        # the last id it saw, as EventSource does, and gets everything once.
        got, last = [], stored[0] - 1
        for _ in range(5):
            s = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream", self.token,
                                  headers={"Last-Event-ID": str(last)})
            try:
                while len(got) < len(stored):
                    ev = s.next(pred=lambda e: e.get("event") == "event")
                    got.append(int(ev["id"]))
                    last = int(ev["id"])
            except AssertionError:
                if not s.ended.is_set():
                    raise  # neither an event nor the end of the stream
            finally:
                s.close()
            if len(got) >= len(stored):
                break  # caught up (that stream stays open for live events)
        self.assertEqual(got, stored)

    def test_stream_limit(self):
        self.osapd.stop()
        self.osapd.settings["api"]["max_streams"] = 1
        self.osapd.write_config()
        self.start_osapd()
        s1 = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream", self.token)
        self.assertEqual(s1.status, 200)
        s2 = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream", self.token)
        self.assertEqual(s2.status, 503)
        s2.close()
        s1.close()
        deadline = time.monotonic() + 10
        while True:  # the first one's slot is given back when it closes
            s3 = apitest.SseReader(self.osapd.port("api"), "/api/v1/events/stream", self.token)
            if s3.status == 200 or time.monotonic() > deadline:
                break
            s3.close()
            time.sleep(0.1)
        self.assertEqual(s3.status, 200)
        s3.close()


if __name__ == "__main__":
    apitest.main()

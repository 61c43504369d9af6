"""Platform API, the Picture Service: uploads as a raw body and as
multipart/form-data, the type judged from the content's magic bytes (415
otherwise), the size limit (413), content-addressed storage with
deduplication, links to a device and an event, downloads with the right
content type and ETag (304), listing and deletion."""

import hashlib
import os
import struct
import uuid
import zlib

import apitest


def png(width=2, height=2, seed=0):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    raw = b"".join(b"\x00" + bytes([(seed + y) & 0xff] * 3 * width) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0,
                                                            0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 \
    + b"\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00" \
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88" \
    b"\xfe\x07\x00"
BMP = b"BM" + struct.pack("<IHHI", 58, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24,
                                                                 0, 4, 0, 0, 0, 0) + b"\x00" * 4


def multipart(fields):
    """fields: [(name, filename or None, content type or None, bytes)]."""
    boundary = "osap" + uuid.uuid4().hex
    out = b""
    for name, filename, ctype, data in fields:
        out += b"--" + boundary.encode() + b"\r\n"
        disp = 'form-data; name="%s"' % name
        if filename:
            disp += '; filename="%s"' % filename
        out += b"Content-Disposition: " + disp.encode() + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


class TestPictures(apitest.ApiTestCase):
    services = ("lbs", "das", "api")
    settings = {"api": {"picture_max_size": "64KiB"}}

    def path_of(self, sha):
        return os.path.join(self.osapd.data_dir, "pictures", sha[:2], sha[2:])

    def test_raw_upload_download_dedup(self):
        data = png(seed=1)
        sha = hashlib.sha256(data).hexdigest()
        # The header says JPEG; the content is a PNG: the content wins.
        r = self.api.post("/api/v1/pictures", raw=data, content_type="image/jpeg")
        self.assertEqual(r.status, 201, r)
        p = r.json
        self.assertEqual(p["sha256"], sha)
        self.assertEqual(p["content_type"], "image/png")
        self.assertEqual(p["size"], len(data))
        self.assertIsNone(p["serial"])
        self.assertIsNone(p["event_id"])
        self.assertEqual(p["url"], "/api/v1/pictures/" + sha)
        self.assertEqual(r.header("Location"), p["url"])
        with open(self.path_of(sha), "rb") as f:
            self.assertEqual(f.read(), data)
        leftovers = [n for n in os.listdir(os.path.dirname(self.path_of(sha)))
                     if n.startswith(".tmp")]
        self.assertEqual(leftovers, [])

        r = self.api.get(p["url"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, data)
        self.assertEqual(r.header("Content-Type"), "image/png")
        self.assertEqual(r.header("ETag"), '"%s"' % sha)
        r = self.api.get(p["url"], headers={"If-None-Match": '"%s"' % sha})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        r = self.api.request("HEAD", p["url"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), str(len(data)))

        # The same bytes again: 200, one file, one row.
        r = self.api.post("/api/v1/pictures", raw=data, content_type="application/octet-stream")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["sha256"], sha)
        self.assertEqual(len(self.api.get("/api/v1/pictures").json["items"]), 1)

        # Every supported type, by content.
        for blob, ctype in ((JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp"),
                            (BMP, "image/bmp")):
            r = self.api.post("/api/v1/pictures", raw=blob, content_type="text/plain")
            self.assertEqual(r.status, 201, (ctype, r))
            self.assertEqual(r.json["content_type"], ctype)
            got = self.api.get(r.json["url"])
            self.assertEqual((got.body, got.header("Content-Type")), (blob, ctype))

        r = self.api.delete(p["url"])
        self.assertEqual(r.status, 204)
        self.assertFalse(os.path.exists(self.path_of(sha)))
        self.assertError(self.api.get(p["url"]), 404, "picture_not_found")
        self.assertError(self.api.delete(p["url"]), 404, "picture_not_found")
        self.assertError(self.api.get("/api/v1/pictures/nothex"), 404, "picture_not_found")
        self.assertError(self.api.get("/api/v1/pictures/" + "A" * 64), 404, "picture_not_found")

    def test_refusals(self):
        for blob in (b"<html>not a picture</html>", b"GIF87", b"\x89PNG\r\n", b"BM" + b"\x00" * 30,
                     b"RIFF\x00\x00\x00\x00WAVEfmt "):
            r = self.api.post("/api/v1/pictures", raw=blob, content_type="image/png")
            self.assertError(r, 415, "unsupported_media_type")
        self.assertError(self.api.post("/api/v1/pictures", raw=b"", content_type="image/png"),
                         400, "bad_request")
        big = png() + b"\x00" * (64 * 1024)
        r = self.api.post("/api/v1/pictures", raw=big, content_type="image/png")
        self.assertError(r, 413, "payload_too_large")
        body, ctype = multipart([("file", "big.png", "image/png", big)])
        self.assertError(self.api.post("/api/v1/pictures", raw=body, content_type=ctype), 413,
                         "payload_too_large")
        body, ctype = multipart([("other", "x.png", "image/png", png())])
        self.assertError(self.api.post("/api/v1/pictures", raw=body, content_type=ctype), 400,
                         "missing_field", "file")
        self.assertError(self.api.post("/api/v1/pictures", raw=b"--x\r\nbroken",
                                       content_type="multipart/form-data; boundary=x"), 400,
                         "bad_request")
        self.assertError(self.api.post("/api/v1/pictures?serial=NOPE", raw=png(),
                                       content_type="image/png"), 400, "invalid_field", "serial")
        self.assertError(self.api.post("/api/v1/pictures?event=12345", raw=png(),
                                       content_type="image/png"), 400, "invalid_field", "event")
        self.assertError(self.api.post("/api/v1/pictures?event=-1", raw=png(),
                                       content_type="image/png"), 400, "invalid_field", "event")
        self.assertEqual(self.api.get("/api/v1/pictures").json["items"], [])
        self.assertFalse(os.path.exists(os.path.join(self.osapd.data_dir, "pictures")) and
                         any(os.listdir(os.path.join(self.osapd.data_dir, "pictures", d))
                             for d in os.listdir(os.path.join(self.osapd.data_dir, "pictures"))))

    def test_multipart_and_links(self):
        d = self.online_device("PIC001")
        eid = d.event("Alarm", "Motion", {"snapshot": True})
        d.wait_acked([eid])
        event = self.api.get("/api/v1/events?serial=PIC001").json["items"][0]

        data = png(seed=7)
        body, ctype = multipart([("serial", None, None, b"PIC001"),
                                 ("event", None, None, str(event["id"]).encode()),
                                 ("file", "snap.png", "image/png", data)])
        r = self.api.post("/api/v1/pictures", raw=body, content_type=ctype)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["serial"], "PIC001")
        self.assertEqual(r.json["event_id"], event["id"])
        self.assertEqual(r.json["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(self.api.get(r.json["url"]).body, data)

        # An event link alone names its device.
        other = png(seed=9)
        r = self.api.post("/api/v1/pictures?event=%d" % event["id"], raw=other,
                          content_type="image/png")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["serial"], "PIC001")
        # The event must be the device's.
        self.provision("PIC002")
        r = self.api.post("/api/v1/pictures?serial=PIC002&event=%d" % event["id"], raw=png(seed=3),
                          content_type="image/png")
        self.assertError(r, 400, "invalid_field", "event")

        self.api.post("/api/v1/pictures", raw=JPEG, content_type="image/jpeg")
        r = self.api.get("/api/v1/pictures?serial=PIC001")
        self.assertEqual(len(r.json["items"]), 2)
        r = self.api.get("/api/v1/pictures?event=%d" % event["id"])
        self.assertEqual(len(r.json["items"]), 2)
        all_ = self.api.get("/api/v1/pictures").json["items"]
        self.assertEqual(len(all_), 3)
        self.assertEqual(all_[0]["content_type"], "image/jpeg")  # newest first
        pages, cursor, got = 0, None, []
        while True:
            r = self.api.get("/api/v1/pictures?limit=2" + ("&cursor=" + cursor if cursor else ""))
            got += [p["sha256"] for p in r.json["items"]]
            pages += 1
            cursor = r.json["next_cursor"]
            if not cursor:
                break
        self.assertEqual((pages, got), (2, [p["sha256"] for p in all_]))
        self.assertError(self.api.get("/api/v1/pictures?serial=a%2Fb"), 400, "invalid_parameter",
                         "serial")


if __name__ == "__main__":
    apitest.main()

"""Secrets never reach osapd's log, even at debug level.

One osapd (lbs, das, api) logging at debug runs through everything that
handles a secret: devices provisioned with a verification code and with a
licence (through the administration command and through the API) that come
online by paths A, C and B, a wrong verification code, an MQTT user with its
password and a wrong one, API tokens good and bad. Then its whole log (and
the output of the administration commands that are not meant to print a
secret) is searched for every secret: the codes and licences in both cases,
the passwords, the tokens, and the master keys the devices stored (hex in
both cases, base64).
"""

import base64
import os
import socket
import struct

import apitest
import osaptest


def mqtt_connect(port, user, password, client_id="secret-test"):
    """A plain MQTT 3.1.1 CONNECT with user name and password; returns the
    CONNACK return code (or None when the server closed the connection)."""
    def s(b):
        return struct.pack(">H", len(b)) + b
    var = s(b"MQTT") + bytes([4, 0xC2]) + struct.pack(">H", 30)
    payload = s(client_id.encode()) + s(user.encode()) + s(password.encode())
    body = var + payload
    pkt = bytes([0x10, len(body)]) + body
    with socket.create_connection((osaptest.HOST, port), timeout=20) as sk:
        sk.sendall(pkt)
        data = b""
        while len(data) < 4:
            chunk = sk.recv(4 - len(data))
            if not chunk:
                return None
            data += chunk
    return data[3]


class TestSecretsNotLogged(apitest.ApiTestCase):

    settings = {"osapd": {"log_level": "debug"}}

    CODE_ADMIN = "QWERTZ"
    CODE_API = "PLMOKN"
    CODE_WRONG = "ZXCVBN"
    LICENCE = "LicenceSecret7f3a9c2e"
    LICENCE_SERIAL = "PKSECRET:devsecret01"
    PASSWORD = "pw-Secret-5b8e1d"
    PASSWORD_WRONG = "pw-Wrong-9c4f2a"
    TOKEN_BAD = "osap_badtoken_4e7d2c9a1b3f5e6d"

    def online_once(self, serial, code, state, licence=False):
        """Bring a device online once with its state in state; returns the master
        key it stored."""
        d = self.device(serial, code, state_dir=state, licence=licence)
        d.wait_state("online", 30)
        d.stop()
        with open(os.path.join(state, "masterkey"), "rb") as f:
            return f.read()

    def test_no_secret_in_the_log(self):
        secrets = {}
        admin_out = []

        r = self.osapd.admin("device", "add", "--serial", "SECRET0001", "--code",
                             self.CODE_ADMIN)
        admin_out.append(r.stdout + r.stderr)
        r = self.osapd.admin("user", "add", "--user", "app", "--password", self.PASSWORD)
        admin_out.append(r.stdout + r.stderr)
        secrets.update(code_admin=self.CODE_ADMIN, password=self.PASSWORD,
                       token=self.token, token_bad=self.TOKEN_BAD,
                       code_api=self.CODE_API, code_wrong=self.CODE_WRONG,
                       licence=self.LICENCE, password_wrong=self.PASSWORD_WRONG)

        # through the API: one device with a code, one with a licence
        self.provision("SECRET0002", self.CODE_API)
        self.provision(self.LICENCE_SERIAL, self.LICENCE, licence=True)

        # paths A, C, B for the code device; A for the others
        state = os.path.join(self.tmp, "dev1")
        self.online_once("SECRET0001", self.CODE_ADMIN, state)  # A
        mk1_c = self.online_once("SECRET0001", self.CODE_ADMIN, state)  # C
        os.remove(os.path.join(state, "masterkey"))
        mk1_b = self.online_once("SECRET0001", self.CODE_ADMIN, state)  # B
        mk2 = self.online_once("SECRET0002", self.CODE_API, os.path.join(self.tmp, "dev2"))
        mk3 = self.online_once(self.LICENCE_SERIAL, self.LICENCE, os.path.join(self.tmp, "dev3"),
                               licence=True)

        # a wrong code: refused (both cases are tried), nothing stored
        d = self.device("SECRET0002", self.CODE_WRONG, state_dir=os.path.join(self.tmp, "dev4"))
        d.pump(3)
        self.assertNotIn("online", d.states)
        d.kill()

        # MQTT user: the right password and a wrong one
        self.assertEqual(mqtt_connect(self.osapd.port("das"), "app", self.PASSWORD), 0)
        self.assertIn(mqtt_connect(self.osapd.port("das"), "app", self.PASSWORD_WRONG,
                                   client_id="secret-test-2"), (4, 5, None))

        # API tokens: a good request and a refused one
        self.assertEqual(self.api.get("/api/v1/devices").status, 200)
        self.assertEqual(self.api.get("/api/v1/devices", token=self.TOKEN_BAD).status, 401)

        self.osapd.stop()
        log = self.osapd.log_text()
        self.assertIn("debug", log)  # the log was written at debug level

        for name, mk in (("mk1_c", mk1_c), ("mk1_b", mk1_b), ("mk2", mk2), ("mk3", mk3)):
            self.assertEqual(len(mk), 16, name)
            secrets[name + "_hex"] = mk.hex()
            secrets[name + "_b64"] = base64.b64encode(mk).decode()
        texts = {"osapd log": log, "admin output": "\n".join(admin_out)}
        for where, text in texts.items():
            low = text.lower()
            for name, value in secrets.items():
                self.assertNotIn(value.lower(), low, "%s (%s) appears in the %s"
                                 % (name, value, where))


if __name__ == "__main__":
    apitest.main()

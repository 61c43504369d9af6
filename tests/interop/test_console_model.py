"""The console's thing-model forms (web/js/model.js) in Debian's chromium:
tests/browser/model.test.mjs builds an editor for every writable attribute and
operation of the ip_camera template, compiled here with osap-modelc, and checks
the controls, values and errors. Only the api service runs (it serves the
console's files)."""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_console_browser as browser  # noqa: E402

osaptest = browser.osaptest


class TestModelForms(osaptest.OsapTestCase):
    services = ("api",)
    settings = {"api": {"web_root": os.path.join(osaptest.src_dir(), "web")}}

    def setUp(self):
        if "api" not in browser.ctltest.sdktest.built_services():
            raise unittest.SkipTest("osapd is built without the api service")
        if not os.access(browser.CHROMIUM, os.X_OK):
            raise AssertionError("%s is missing: run scripts/deps.sh test" % browser.CHROMIUM)
        super().setUp()
        browser.ensure_playwright()

    def test_model_forms(self):
        models = os.path.join(osaptest.src_dir(), "models")
        out = os.path.join(self.tmp, "compiled")
        subprocess.run([osaptest.program("osap-modelc"), os.path.join(models, "ip_camera.osm"),
                        "-o", out, "-I", models], check=True, timeout=60)
        self.osapd.start()

        def handler(cmd, args):
            raise ValueError("no host commands in this suite")

        browser.run_suite(self, "model", {
            "OSAP_CONSOLE_URL": "http://127.0.0.1:%d" % self.osapd.port("api"),
            "OSAP_MODEL_JSON": os.path.join(out, "ip_camera.json"),
        }, handler)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""The web console in a real browser: Debian's chromium, headless, driven by
playwright-core (tests/browser/console.test.mjs) against a live osapd with the
lbs, das and api services and a device online (tests/integration/
api_device.c). This test starts the platform and the device, runs the browser
suite and answers its requests (take the device offline and online again,
raise events, report attributes, read what the device received, make it
answer nothing).

playwright-core is installed with npm into tests/browser/node_modules when it
is missing (package.json pins its exact version; it has no dependencies); the browser is /usr/bin/chromium
(scripts/deps.sh installs it). Failure screenshots go to $OSAP_TEST_ARTIFACTS,
by default <build>/tests/browser/screenshots; their paths are printed."""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import ctltest  # noqa: E402

osaptest = ctltest.osaptest
BROWSER_DIR = os.path.join(osaptest.src_dir(), "tests", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def build_tests_dir():
    return os.environ.get("OSAP_TESTS") or os.path.join(osaptest.src_dir(), "build", "tests")


def ensure_playwright():
    """Install playwright-core into tests/browser/node_modules once (npm
    install of the exact version package.json names); serialised between
    concurrent tests by a lock file in the build tree."""
    marker = os.path.join(BROWSER_DIR, "node_modules", "playwright-core", "package.json")
    with open(os.path.join(BROWSER_DIR, "package.json")) as f:
        wanted = json.load(f)["dependencies"]["playwright-core"]

    def installed():
        try:
            with open(marker) as f:
                return json.load(f).get("version") == wanted
        except (OSError, ValueError):
            return False

    if installed():
        return
    if not shutil.which("npm"):
        raise AssertionError("npm is missing: run scripts/deps.sh test")
    os.makedirs(build_tests_dir(), exist_ok=True)
    with open(os.path.join(build_tests_dir(), "browser-npm.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed():
            return
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=BROWSER_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=600)
        if r.returncode != 0 or not installed():
            raise AssertionError("npm install in tests/browser failed:\n" + r.stdout[-3000:])


def run_suite(test, suite, env, handler, timeout=420):
    """Run tests/browser/<suite>.test.mjs; answer its host requests with
    handler(cmd, args); returns its final result object."""
    artifacts = os.environ.get("OSAP_TEST_ARTIFACTS") or os.path.join(
        build_tests_dir(), "browser", "screenshots")
    e = dict(os.environ)
    e.update(env)
    e["OSAP_TEST_ARTIFACTS"] = artifacts
    e["CHROMIUM"] = CHROMIUM
    # The browser's profile and other scratch files go below a directory of this
    # run, removed afterwards even when the suite had to be killed.
    scratch = tempfile.mkdtemp(prefix="osap-browser-")
    test.addCleanup(shutil.rmtree, scratch, True)
    e["TMPDIR"] = scratch
    proc = subprocess.Popen(["node", suite + ".test.mjs"], cwd=BROWSER_DIR, env=e,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    result = None
    errors = []
    stderr_lines = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("#"):
                sys.stderr.write("  browser " + line + "\n")
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                sys.stderr.write("  browser: " + line + "\n")
                continue
            if "rpc" in msg:
                try:
                    reply = {"rpc": msg["rpc"], "ok": True,
                             "result": handler(msg["cmd"], msg.get("args") or {})}
                except Exception as ex:  # the browser suite reports it as its failure
                    errors.append("%s: %s" % (msg["cmd"], ex))
                    reply = {"rpc": msg["rpc"], "ok": False, "error": str(ex)}
                proc.stdin.write(json.dumps(reply) + "\n")
                proc.stdin.flush()
            elif "result" in msg:
                result = msg
        proc.wait(timeout=60)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    if result is None:
        test.fail("the browser suite %s ended without a result (exit %s)\n%s\nhost errors: %s"
                  % (suite, proc.returncode, "".join(stderr_lines)[-3000:], errors))
    if result["result"] != "pass":
        msg = "browser step '%s' failed: %s" % (result.get("step"), result.get("error"))
        if result.get("screenshot"):
            msg += "\nscreenshot: %s" % result["screenshot"]
        if errors:
            msg += "\nhost errors: %s" % errors
        test.fail(msg)
    return result


class TestConsole(ctltest.PlatformTestCase):

    def setUp(self):
        if not os.access(CHROMIUM, os.X_OK):
            raise AssertionError("%s is missing: run scripts/deps.sh test" % CHROMIUM)
        super().setUp()
        ensure_playwright()

    def test_console(self):
        # the api checks values against models/ and publishes them to the console
        self.osapd.settings.setdefault("models", {})["models_dir"] = os.path.join(
            osaptest.src_dir(), "models")
        self.osapd.write_config()
        self.start_platform()
        self.add_device("CONSOLE1")
        self.add_device("CONSOLE2")
        self.add_device("CONSOLE3", model="ip_camera")
        state = os.path.join(self.tmp, "dev1")
        dev = {"d": self.device("CONSOLE1", state_dir=state)}
        cam = self.device("CONSOLE3", model="ip_camera")
        dev["d"].wait_state("online", 30)
        cam.wait_state("online", 30)
        self.wait_online("CONSOLE1")
        self.wait_online("CONSOLE3")
        picture = os.path.join(self.tmp, "pixel.png")
        with open(picture, "wb") as f:
            f.write(ctltest.png())

        def handler(cmd, args):
            d = cam if args.get("device") == "camera" else dev["d"]
            if cmd == "device.stop":
                d.stop()
                return None
            if cmd == "device.start":
                dev["d"] = self.device("CONSOLE1", state_dir=state)
                dev["d"].wait_state("online", 30)
                return None
            if cmd == "device.event":
                eid = d.event(args["domain"], args["identifier"], args["body"])
                d.wait_acked([eid], 30)
                return eid
            if cmd == "device.attr":
                d.attr(args["domain"], args["identifier"], args["value"])
                return None
            if cmd == "device.request":
                return d.wait_request(lambda r: r["domain"] == args["domain"]
                                      and r["identifier"] == args["identifier"], 15)
            if cmd == "device.reply":
                d.reply(args["mode"])
                return None
            if cmd == "api.get":
                status, body = self.api("GET", args["path"])
                return {"status": status, "body": body}
            raise ValueError("unknown host command " + cmd)

        started = time.monotonic()
        result = run_suite(self, "console", {
            "OSAP_CONSOLE_URL": self.url,
            "OSAP_CONSOLE_TOKEN": self.token,
            "OSAP_CONSOLE_ONLINE": "CONSOLE1",
            "OSAP_CONSOLE_OFFLINE": "CONSOLE2",
            "OSAP_CONSOLE_CAMERA": "CONSOLE3",
            "OSAP_CONSOLE_PICTURE": picture,
        }, handler)
        sys.stderr.write("console suite: %d steps in %.1f s\n"
                         % (result["steps"], time.monotonic() - started))


if __name__ == "__main__":
    unittest.main(verbosity=2)

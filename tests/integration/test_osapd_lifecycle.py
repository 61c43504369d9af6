"""osapd lifecycle: start with no services, SIGTERM/SIGINT, SIGHUP log reopen,
pid file and data directory lock, crash and restart, configuration errors with
file:line, unknown services, command-line usage."""

import configparser
import json
import os
import signal
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import osaptest  # noqa: E402


class TestLifecycle(osaptest.OsapTestCase):

    def test_version_and_help(self):
        r = self.osapd.run("--version", config=False)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^osapd \d+\.\d+\.\d+\n$")
        r = self.osapd.run("--help", config=False)
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: osapd", r.stdout)
        self.assertIn("Services built in:", r.stdout)

    def test_usage_errors_exit_2(self):
        for args in (["--no-such-option"], ["no-such-command"], ["device"],
                     ["device", "add"], ["token", "create"], ["user", "frobnicate"]):
            r = self.osapd.run(*args, config=False)
            self.assertEqual(r.returncode, 2, "%s: %s" % (args, r.stderr))
            self.assertIn("usage:", r.stderr)

    def test_start_without_services_and_sigterm(self):
        self.osapd.start()
        log = self.osapd.log_text()
        self.assertIn("services: none", log)
        self.assertRegex(log, r"store: sqlite, schema version \d+\n")
        self.assertEqual(self.osapd.stop(), 0)
        self.assertIn("SIGTERM received, stopping", self.osapd.log_text())
        self.assertIn("stopped", self.osapd.log_tail(2))
        # The data directory and the database are private.
        self.assertEqual(stat.S_IMODE(os.stat(self.osapd.data_dir).st_mode), 0o700)
        db = os.path.join(self.osapd.data_dir, "osap.db")
        self.assertEqual(stat.S_IMODE(os.stat(db).st_mode), 0o600)
        # Nothing written outside the data directory (config and log are ours).
        self.assertEqual(sorted(os.listdir(self.tmp)), ["osapd.conf", "osapd.log", "var"])

    def test_sigint_stops_cleanly(self):
        self.osapd.start()
        self.assertEqual(self.osapd.stop(sig=signal.SIGINT), 0)
        self.assertIn("SIGINT received", self.osapd.log_text())

    def test_sighup_reopens_the_log_file(self):
        log_file = os.path.join(self.tmp, "file.log")
        self.osapd.settings["osapd"] = {"log_file": log_file}
        self.osapd.write_config()
        self.osapd.start()
        self.osapd.wait_log("ready (pid", log_path=log_file)
        os.rename(log_file, log_file + ".1")
        self.osapd.send_signal(signal.SIGHUP)
        self.osapd.wait_log("SIGHUP: log reopened", log_path=log_file)
        self.assertEqual(self.osapd.stop(), 0)
        with open(log_file) as f:
            new = f.read()
        with open(log_file + ".1") as f:
            old = f.read()
        self.assertIn("ready (pid", old)
        self.assertNotIn("ready (pid", new)
        self.assertIn("SIGTERM received", new)
        self.assertNotIn("SIGTERM received", old)

    def test_json_log(self):
        self.osapd.start(args=["--log-json", "-v"])
        self.osapd.stop()
        lines = [l for l in self.osapd.log_text().splitlines() if l.strip()]
        self.assertGreater(len(lines), 3)
        for line in lines:
            event = json.loads(line)
            self.assertRegex(event["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(event["level"], ("error", "warn", "info", "debug"))
            self.assertEqual(event["component"], "osapd")
            self.assertIsInstance(event["msg"], str)

    def test_pid_file_and_one_daemon_per_data_dir(self):
        pid_file = os.path.join(self.tmp, "osapd.pid")
        self.osapd.start(args=["--pid-file", pid_file])
        with open(pid_file) as f:
            self.assertEqual(int(f.read()), self.osapd.proc.pid)
        # A second daemon on the same data directory refuses to start.
        second = osaptest.Osapd(self.tmp, ())
        r = second.run(config=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("another osapd is running on the data directory", r.stderr)
        self.assertEqual(self.osapd.stop(), 0)
        self.assertFalse(os.path.exists(pid_file))

    def test_kill_and_restart_on_the_same_data_dir(self):
        self.osapd.admin("device", "add", "--serial", "KEEP1", "--code", "ABCDEF")
        self.osapd.start()
        self.osapd.kill()
        self.assertEqual(self.osapd.proc.returncode, -signal.SIGKILL)
        self.osapd.start()
        self.assertEqual(self.osapd.stop(), 0)
        r = self.osapd.admin("device", "show", "KEEP1")
        self.assertIn("KEEP1", r.stdout)

    def test_unknown_service(self):
        self.osapd.services = ("nosuchservice",)
        self.osapd.write_config()
        r = self.osapd.run(config=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("service 'nosuchservice' is not available in this build of osapd",
                      r.stderr)
        self.assertIn("osapd.conf:5:", r.stderr)  # the line of services =
        built = self.osapd.run("--list-services", config=False).stdout.split()
        for name in ("lbs", "das", "api"):
            if name in built:
                continue
            # Not built yet: naming it is the same error.
            r = self.osapd.run("--set", "osapd.services=" + name, config=True)
            self.assertEqual(r.returncode, 1)
            self.assertIn("service '%s' is not available" % name, r.stderr)

    def test_bad_configuration_names_file_and_line(self):
        self.osapd.write_config("[osapd]\n"
                                "data_dir = %s\n"
                                "services =\n"
                                "\n"
                                "[lbs]\n"
                                "prot = 8666\n"
                                "port = 99999\n"
                                "[nope]\n" % self.osapd.data_dir)
        r = self.osapd.run(config=True)
        self.assertEqual(r.returncode, 1)
        conf = self.osapd.config_path
        self.assertIn("%s:6: unknown setting 'prot' in section [lbs]" % conf, r.stderr)
        self.assertIn("%s:7: [lbs] port: 99999 is out of range (1..65535)" % conf, r.stderr)
        self.assertIn("%s:8: unknown section [nope]" % conf, r.stderr)
        self.assertFalse(os.path.exists(self.osapd.data_dir))
        r = self.osapd.run("config", "check")
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:6: unknown setting" % conf, r.stderr)

    def test_missing_configuration_file(self):
        os.unlink(self.osapd.config_path)
        r = self.osapd.run(config=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open", r.stderr)

    def test_bad_set_option(self):
        r = self.osapd.run("--set", "nodot", config=True)
        self.assertEqual(r.returncode, 2)
        r = self.osapd.run("--set", "osapd.nosuch=1", config=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown setting [osapd] nosuch", r.stderr)

    def test_config_check(self):
        r = self.osapd.admin("config", "check")
        effective = configparser.ConfigParser(interpolation=None)
        effective.read_string(r.stdout)
        self.assertEqual(effective["osapd"]["data_dir"], self.osapd.data_dir)
        self.assertEqual(effective["lbs"]["listen"], "127.0.0.1")
        self.assertEqual(effective["lbs"]["port"], str(self.osapd.port("lbs")))
        self.assertEqual(effective["store"]["busy_timeout"], "5s")
        r = self.osapd.run("config", "check", "--defaults", config=False)
        self.assertEqual(r.returncode, 0)
        for section in ("[osapd]", "[store]", "[lbs]", "[das]", "[api]"):
            self.assertIn(section, r.stdout)
        self.assertIn("data_dir = ./var\n", r.stdout)
        self.assertIn("services = lbs, das, api\n", r.stdout)
        # The printed sample is itself a valid configuration.
        sample = os.path.join(self.tmp, "sample.conf")
        with open(sample, "w") as f:
            f.write(r.stdout)
        r = self.osapd.run("config", "check", "-c", sample, "--set", "osapd.services=",
                           config=False)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_shipped_sample_configuration_is_valid(self):
        sample = os.path.join(osaptest.src_dir(), "etc", "osapd.conf")
        r = self.osapd.run("config", "check", "-c", sample, "--set", "osapd.services=",
                           "--set", "osapd.data_dir=" + self.osapd.data_dir, config=False)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    osaptest.main()

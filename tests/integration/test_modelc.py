#!/usr/bin/python3
"""osap-modelc end to end: every template in models/ compiles; the outputs parse; the
profile has the structure and keys of the wire spec (section 7.6); the generated C
header compiles in a firmware-like file that fills the whole handler table; a wrongly
typed handler is refused by the compiler; broken models exit 1 with file:line:col;
usage and I/O errors exit 2; template search order (-I, next to the file, models/)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN = os.environ.get("OSAP_BIN", "build/bin")
SRC = os.environ.get("OSAP_SRC", ".")
MODELC = os.path.join(BIN, "osap-modelc")
MODELS = os.path.join(SRC, "models")
TEMPLATES = ["base", "ip_camera", "nvr", "access_control", "radar", "generic_sensor"]

SCHEMA_KEYS = {"type", "key", "enum", "mnl", "mxl", "mn", "emn", "mx", "emx", "multi", "itm",
               "mnitm", "mxitm", "unq", "req", "mnp", "mxp", "dep", "prop"}
SCHEMA_TYPES = {"str", "bool", "int", "num", "arr", "obj"}


def run(*args, cwd=None):
    return subprocess.run([MODELC, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


# ---- the C naming rules of docs/MODEL.md ("C header"), restated independently ----

def snake(s):
    out = []
    for i, c in enumerate(s):
        if c.isupper():
            prev = s[i - 1] if i else "_"
            nxt = s[i + 1] if i + 1 < len(s) else "_"
            brk = i > 0 and prev != "_" and (prev.islower() or prev.isdigit()
                                              or (prev.isupper() and nxt.islower()))
            if brk and out and out[-1] != "_":
                out.append("_")
            out.append(c.lower())
        else:
            out.append(c)
    return "".join(out)


def ctype(model, t, ctx):
    kind = t["kind"]
    if kind == "bool":
        return "bool"
    if kind == "int":
        return "int32_t"
    if kind == "number":
        return "double"
    if kind == "string":
        return "const char *"
    name = f"{model}_{snake(t['typeName'])}" if "typeName" in t else ctx
    return f"struct {name}"


def param_in(ct, name):
    if ct.startswith("struct "):
        return f"const {ct} *{name}"
    return f"{ct}{'' if ct.endswith('*') else ' '}{name}"


def param_out(ct, name):
    return f"{ct}{'' if ct.endswith('*') else ' '}*{name}"


def handlers(doc):
    """(field, parameter list) of every handler the header must declare."""
    p = doc["name"]
    for res in doc["resources"]:
        rs = snake(res["category"])
        for dom in res["domains"]:
            ds = snake(dom["identifier"])
            for a in dom["attributes"]:
                ctx = f"{p}_{rs}_{ds}_{snake(a['identifier'])}"
                field = f"{rs}_{ds}_{snake(a['identifier'])}"
                ct = ctype(p, a["type"], ctx)
                if "r" in a["access"]:
                    yield field + "_get", [param_out(ct, "value")]
                if "w" in a["access"]:
                    yield field + "_set", [param_in(ct, "value")]
            for o in dom["operations"]:
                ctx = f"{p}_{rs}_{ds}_{snake(o['identifier'])}"
                field = f"{rs}_{ds}_{snake(o['identifier'])}"
                params = []
                if "input" in o:
                    params.append(param_in(ctype(p, o["input"], ctx + "_input"), "input"))
                if "output" in o:
                    params.append(param_out(ctype(p, o["output"], ctx + "_output"), "output"))
                yield field, params


def firmware_source(doc, header):
    """A C file that implements every handler and fills the table."""
    p = doc["name"]
    lines = [f'#include "{header}"', ""]
    inits = []
    for field, params in handlers(doc):
        names = ["rid"] + [re.split(r"[ *]", x)[-1] for x in params] + ["userdata"]
        sig = ", ".join(["const char *rid"] + params + ["void *userdata"])
        lines.append(f"static int h_{field}({sig})")
        lines.append("{")
        lines += [f"    (void){n};" for n in names]
        lines.append("    return 0;")
        lines.append("}")
        lines.append("")
        inits.append(f"    .{field} = h_{field},")
    lines.append(f"static const struct {p}_handlers table = {{")
    lines += inits
    lines.append("};")
    lines.append("")
    lines.append(f"const struct {p}_handlers *firmware_handlers(void);")
    lines.append(f"const struct {p}_handlers *firmware_handlers(void)")
    lines.append("{")
    lines.append("    return &table;")
    lines.append("}")
    return "\n".join(lines) + "\n", len(inits)


def compile_c(path, cwd, extra=()):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    return subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", *extra, "-c", path,
                           "-o", os.devnull], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def check_schema(test, s, where):
    test.assertIsInstance(s, dict, where)
    test.assertLessEqual(set(s), SCHEMA_KEYS, where)
    test.assertIn(s["type"], SCHEMA_TYPES, where)
    if s["type"] == "arr":
        check_schema(test, s["itm"], where + ".itm")
    if s["type"] == "obj":
        test.assertIsInstance(s["prop"], list, where)
        for i, m in enumerate(s["prop"]):
            test.assertIsInstance(m["key"], str, where)
            check_schema(test, m, f"{where}.prop[{i}]")
        for r in s.get("req", []):
            test.assertIn(r, [m["key"] for m in s["prop"]], where)
    for k in ("mn", "mx", "emn", "emx", "multi", "mnl", "mxl", "mnitm", "mxitm"):
        if k in s:
            test.assertIsInstance(s[k], (int, float), where + "." + k)


class ModelcTemplates(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="osap-modelc-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def compile_template(self, name):
        r = run(os.path.join(MODELS, name + ".osm"), "-o", self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        for suffix in (".json", ".profile.json", ".h", ".md"):
            path = os.path.join(self.tmp, name + suffix)
            self.assertTrue(os.path.getsize(path) > 0, path)
        self.assertEqual(sorted(f for f in os.listdir(self.tmp) if f.startswith(".")), [])
        with open(os.path.join(self.tmp, name + ".json")) as f:
            doc = json.load(f)
        with open(os.path.join(self.tmp, name + ".profile.json")) as f:
            profile = json.load(f)
        return doc, profile

    def test_outputs(self):
        for name in TEMPLATES:
            with self.subTest(template=name):
                doc, profile = self.compile_template(name)
                self.assertEqual(doc["osapModel"], 1)
                self.assertEqual(doc["name"], name)
                self.assertEqual(doc["extends"], [] if name == "base" else ["base"])
                with open(os.path.join(self.tmp, name + ".md")) as f:
                    self.assertTrue(f.read().startswith(f"# Thing model `{name}` "))

    def test_profile_structure(self):
        for name in TEMPLATES:
            with self.subTest(template=name):
                doc, profile = self.compile_template(name)
                self.assertEqual(set(profile), {"version", "resources"})
                self.assertEqual(profile["version"], doc["version"])
                self.assertEqual([r["resourceCategory"] for r in profile["resources"]],
                                 [r["category"] for r in doc["resources"]])
                for res, mres in zip(profile["resources"], doc["resources"]):
                    self.assertEqual(set(res), {"resourceCategory", "localIndex", "domains"})
                    self.assertEqual(res["localIndex"], [str(i) for i in mres["indexes"]])
                    self.assertTrue(res["domains"])
                    for dom in res["domains"]:
                        self.assertEqual(set(dom), {"identifier", "props", "actions", "events"})
                        self.assertLessEqual(len(dom["identifier"]), 31)
                        for p in dom["props"]:
                            self.assertEqual(set(p), {"identifier", "access", "version",
                                                      "schema"})
                            self.assertIn(p["access"], ("r", "w", "rw"))
                            self.assertLessEqual(len(p["identifier"]), 31)
                            check_schema(self, p["schema"], p["identifier"])
                        for a in dom["actions"]:
                            self.assertLessEqual(set(a), {"identifier", "version", "direction",
                                                          "input", "output"})
                            self.assertEqual(a["direction"], "Plt2Dev")
                            for io in ("input", "output"):
                                if io in a:
                                    self.assertEqual(set(a[io]), {"schema"})
                                    check_schema(self, a[io]["schema"], a["identifier"])
                        for e in dom["events"]:
                            self.assertLessEqual(set(e), {"identifier", "version", "eventType",
                                                          "input", "output"})
                            self.assertIn(e["eventType"], (["info"], ["warning"], ["alarm"]))
                            check_schema(self, e["input"]["schema"], e["identifier"])
                            self.assertEqual(e["input"]["schema"]["type"], "obj")
                            keys = [m["key"] for m in e["input"]["schema"]["prop"]]
                            self.assertEqual(keys[-1], "basic")

    def test_header_compiles_with_handler_table(self):
        for name in TEMPLATES:
            with self.subTest(template=name):
                doc, _ = self.compile_template(name)
                src, count = firmware_source(doc, name + ".h")
                self.assertGreater(count, 10)
                path = os.path.join(self.tmp, f"fw_{name}.c")
                with open(path, "w") as f:
                    f.write(src)
                r = compile_c(path, self.tmp)
                self.assertEqual(r.returncode, 0, r.stderr)
                r = compile_c(path, self.tmp, ("-pedantic",))
                self.assertEqual(r.returncode, 0, r.stderr)
                # The header alone, twice (include guard), also as its own unit.
                solo = os.path.join(self.tmp, f"solo_{name}.c")
                with open(solo, "w") as f:
                    f.write(f'#include "{name}.h"\n#include "{name}.h"\n'
                            f"int solo_{name}(void);\nint solo_{name}(void) {{ return 0; }}\n")
                r = compile_c(solo, self.tmp)
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_wrong_handler_type_is_refused(self):
        self.compile_template("base")
        path = os.path.join(self.tmp, "wrong.c")
        with open(path, "w") as f:
            f.write('#include "base.h"\n'
                    "static int cpu(const char *rid, double *value, void *userdata)\n"
                    "{ (void)rid; (void)value; (void)userdata; return 0; }\n"
                    "const struct base_handlers t = { .global_maintenance_cpu_usage_get = cpu };\n")
        r = compile_c(path, self.tmp)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("global_maintenance_cpu_usage_get", r.stderr + r.stdout)


class ModelcErrors(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="osap-modelc-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, rel, text):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_broken_model_exit_1(self):
        self.write("broken.osm", 'model broken version "1";\n'
                                 "resource global {\n"
                                 "  domain D { attribute A int; }\n"
                                 "}\n")
        r = run("broken.osm", "-o", "out", cwd=self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "broken.osm:3:26: expected ':', found 'int'\n")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out")))

    def test_semantic_error_exit_1(self):
        self.write("bad.osm", 'model bad version "1";\n'
                              "resource global { domain D {\n"
                              "  attribute A: int range 1..10 default 42;\n"
                              "} }\n")
        r = run("bad.osm", "-o", "out", cwd=self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "bad.osm:3:40: default: 42 is above the maximum 10\n")

    def test_error_inside_template_names_the_template(self):
        self.write("lib/tpl.osm", 'model tpl version "1";\nresource global { domain D {\n'
                                  "  attribute A: enum { x, x };\n} }\n")
        self.write("prod.osm", 'model prod version "1"; extends tpl;\n'
                               "resource global { domain E { attribute B: bool; } }\n")
        r = run("prod.osm", "-o", "out", "-I", "lib", cwd=self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "lib/tpl.osm:3:26: duplicate enum value \"x\"\n")

    def test_template_search(self):
        product = ('model product version "2.0";\nextends ip_camera;\n'
                   "resource video indexes 0..1 { domain Stream {\n"
                   "  override attribute MainFrameRate: int range 1..60 unit \"fps\" access rw;\n"
                   "} }\n")
        self.write("p/product.osm", product)
        r = run("p/product.osm", "-o", "out", cwd=self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "p/product.osm:2:9: template 'ip_camera' not found\n")
        # -I: the given directories first.
        r = run("p/product.osm", "-o", "out", "-I", "/nonexistent", "-I", MODELS, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp, "out", "product.json")) as f:
            doc = json.load(f)
        video = [x for x in doc["resources"] if x["category"] == "video"][0]
        self.assertEqual(video["indexes"], [0, 1])
        stream = [d for d in video["domains"] if d["identifier"] == "Stream"][0]
        rate = [a for a in stream["attributes"] if a["identifier"] == "MainFrameRate"][0]
        self.assertEqual((rate["from"], rate["type"]["max"]), ("product", 60))
        # A models/ directory next to the input.
        shutil.copytree(MODELS, os.path.join(self.tmp, "p", "models"))
        r = run("p/product.osm", "-o", "out2", cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Next to the input itself.
        shutil.copy(os.path.join(MODELS, "base.osm"), os.path.join(self.tmp, "q_base.osm"))
        os.rename(os.path.join(self.tmp, "q_base.osm"), os.path.join(self.tmp, "base.osm"))
        self.write("prod2.osm", 'model prod2 version "1"; extends base;\n'
                                "resource global { domain X { attribute Y: bool; } }\n")
        r = run("prod2.osm", "-o", "out3", cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_usage_and_io_errors_exit_2(self):
        self.assertEqual(run().returncode, 2)
        self.assertEqual(run(os.path.join(MODELS, "base.osm")).returncode, 2)  # no -o
        self.assertEqual(run("-o", self.tmp).returncode, 2)  # no input
        self.assertEqual(run("--bogus").returncode, 2)
        r = run(os.path.join(self.tmp, "missing.osm"), "-o", self.tmp)
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.osm", r.stderr)
        blocker = self.write("file", "not a directory")
        r = run(os.path.join(MODELS, "base.osm"), "-o", os.path.join(blocker, "sub"))
        self.assertEqual(r.returncode, 2)
        h = run("--help")
        self.assertEqual(h.returncode, 0)
        self.assertIn("usage: osap-modelc", h.stdout)


if __name__ == "__main__":
    if not os.access(MODELC, os.X_OK):
        print(f"osap-modelc not found at {MODELC}", file=sys.stderr)
        sys.exit(1)
    unittest.main(verbosity=2)

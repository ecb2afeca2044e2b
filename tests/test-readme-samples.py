#!/usr/bin/python3
"""README.md against the current build, so that it cannot drift:

- femodetect's input format list is the element's sink caps, in order;
- every "`property` (... default VALUE" of femodetect or femooverlay states
  the property's default;
- the sample outputs (femodetect's messages, the Python example's output)
  are what their commands print now: each sample is the command line(s)
  after "$ ", then the first lines of the output, "...", the last ones
  ("Got message #..." stands for any message number);
- the Python example exits non-zero, naming the file, when it cannot play it.

usage: test-readme-samples.py [--update]
--update writes the current outputs into README.md's samples instead (as
many first and last lines as they have now). Uses Debian's python3-gst-1.0;
run through 'meson test', or by hand after the build (build/src/gst).
"""
import difflib
import os
import re
import subprocess
import sys
import tempfile

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(SOURCE_ROOT, "README.md")
SHARED = os.environ.get("FEMO_SHARED_DIR",
                        os.path.join(SOURCE_ROOT, "..", "shared"))
os.environ.setdefault("GST_PLUGIN_PATH",
                      os.path.join(SOURCE_ROOT, "build", "src", "gst"))
os.environ.setdefault("FEMO_MODEL_DIR", os.path.join(SOURCE_ROOT, "models"))


def preload_asan():
    """A sanitizer build's plugin needs the ASan runtime loaded before
    anything else: run again with it preloaded (its leaks are the C tests'
    to find, not this one's)."""
    plugin = os.path.join(os.environ["GST_PLUGIN_PATH"].split(":")[0],
                          "libgstfemo.so")
    if "libasan" in os.environ.get("LD_PRELOAD", "") or \
            not os.path.exists(plugin) or b"libasan.so" not in \
            open(plugin, "rb").read():
        return
    runtime = subprocess.run(["cc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True).stdout.strip()
    env = dict(os.environ, LD_PRELOAD=runtime, ASAN_OPTIONS="detect_leaks=0")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


preload_asan()


def missing(what):
    """A missing prerequisite: SKIP (77), but a failure under CI=true."""
    print(f"missing {what}")
    sys.exit(1 if os.environ.get("CI") == "true" else 77)


try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    Gst.Structure.from_string("s, l={ 1 }")[0]["l"]
except (ImportError, ValueError, TypeError) as e:
    missing(f"PyGObject with GStreamer's overrides (gst-femo/setup.sh --tests "
            f"installs python3-gst-1.0): {e}")

failures = []


def check_formats(text):
    listed = re.search(r"^Input: (.*?) at any size", text, re.M | re.S)
    listed = re.split(r",\s+", listed.group(1))
    factory = Gst.ElementFactory.find("femodetect")
    if factory is None:
        failures.append("femodetect not found (GST_PLUGIN_PATH?)")
        return
    sink = next(t for t in factory.get_static_pad_templates()
                if t.direction == Gst.PadDirection.SINK)
    caps = list(sink.get_caps().get_structure(0)["format"])
    if listed != caps:
        failures.append(f"README's input formats {listed}\n"
                        f"  femodetect's sink caps {caps}")


def parse_value(word):
    if word in ("true", "false"):
        return word == "true"
    try:
        return float(word)
    except ValueError:
        return None


def check_defaults(text):
    elements = [Gst.ElementFactory.make(n) for n in ("femodetect",
                                                     "femooverlay")]
    checked = []
    pattern = (r"`([a-z][a-z-]*)`(?: [A-Z])?(?: \(|,\s+)(?:[a-z ]+,\s+)?"
               r"default\s+([^,;)\s]+)")
    for name, word in re.findall(pattern, text):
        spec = next((e.find_property(name) for e in elements
                     if e and e.find_property(name)), None)
        stated = parse_value(word)
        if spec is None or stated is None:
            continue
        actual = spec.default_value
        checked.append(name)
        if isinstance(stated, bool) != isinstance(actual, bool) or \
                abs(float(stated) - float(actual)) > 1e-9:
            failures.append(f"README says `{name}` defaults to {word}; "
                            f"it is {actual}")
    print(f"defaults checked: {', '.join(checked)}")
    # femooverlay's track ids: README once implied they were off by default
    if "show-track-id" not in checked:
        failures.append("README does not state `show-track-id`'s default")
    if len(checked) < 10:
        failures.append(f"only {len(checked)} property defaults found in "
                        f"README: the pattern no longer matches its text")


def find_sample(lines, start):
    """(first, end, command): README lines [first, end) are the sample's
    output lines after its "$ " command at or after line @start."""
    i = next(n for n in range(start, len(lines)) if lines[n].startswith("$ "))
    command = lines[i][2:]
    while command.endswith("\\"):
        i += 1
        command = command[:-1] + " " + lines[i].strip()
    end = next(n for n in range(i + 1, len(lines)) if lines[n] == "```")
    return i + 1, end, command


def run_sample(command, cwd):
    # the build's plugin (the environment's), wherever the tree is
    command = re.sub(r"^GST_PLUGIN_PATH=\S+ ", "", command)
    command = command.replace("../shared", SHARED)
    out = subprocess.run(command, shell=True, cwd=cwd, capture_output=True,
                         text=True)
    if out.returncode != 0:
        failures.append(f"'{command}' exited with {out.returncode}: "
                        f"{out.stderr}")
    return [re.sub(r"^Got message #\d+", "Got message #...", line)
            for line in out.stdout.splitlines()]


def elide(output, sample):
    """@output shortened as @sample is: its first and last lines."""
    if "..." not in sample:
        return output
    n_head = sample.index("...")
    n_tail = len(sample) - n_head - 1
    if len(output) <= n_head + n_tail:
        return output
    return output[:n_head] + ["..."] + output[len(output) - n_tail:]


def check_sample(lines, start, cwd, update):
    first, end, command = find_sample(lines, start)
    sample = lines[first:end]
    got = elide(run_sample(command, cwd), sample)
    if got == sample:
        print(f"sample of '{command[:60]}...': {end - first} lines as shown")
    elif update:
        lines[first:end] = got
        print(f"updated the sample of '{command[:60]}...'")
    else:
        failures.append(f"README's sample of '{command}' is stale "
                        f"(tests/test-readme-samples.py --update):\n" +
                        "\n".join(difflib.unified_diff(
                            sample, got, "README.md", "now", lineterm="")))
    return lines


def python_example(lines, tmp):
    start = lines.index("```python", next(
        n for n, line in enumerate(lines) if line.startswith("In Python")))
    code = lines[start + 1:lines.index("```", start + 1)]
    path = os.path.join(tmp, "emotions.py")
    with open(path, "w") as f:
        f.write("\n".join(code) + "\n")
    return start


def check_missing_file(tmp):
    absent = os.path.join(tmp, "no-such-file.mp4")
    out = subprocess.run([sys.executable, "emotions.py", absent], cwd=tmp,
                         capture_output=True, text=True)
    if out.returncode == 0 or absent not in out.stderr:
        failures.append(f"emotions.py on a missing file: exit "
                        f"{out.returncode}, stderr {out.stderr!r}")


def main():
    update = sys.argv[1:] == ["--update"]
    for media in ("media/ulfd_2.jpg",
                  "media/video/obama_montage_640x480_300f.mp4"):
        if not os.path.exists(os.path.join(SHARED, media)):
            missing(os.path.join(SHARED, media))
    with open(README) as f:
        text = f.read()
    lines = text.split("\n")
    check_formats(text)
    check_defaults(text)
    with tempfile.TemporaryDirectory() as tmp:
        messages = next(n for n, line in enumerate(lines)
                        if line.startswith("$ ")
                        and "gst-launch-1.0 -m" in line)
        lines = check_sample(lines, messages, SOURCE_ROOT, update)
        start = python_example(lines, tmp)
        lines = check_sample(lines, start, tmp, update)
        check_missing_file(tmp)
    if update:
        with open(README, "w") as f:
            f.write("\n".join(lines))
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


sys.exit(main())

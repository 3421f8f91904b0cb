"""Seconds per test file from pytest's JUnit XML, one column per XML file (a markdown table, slowest first).

    .venv/bin/python -m pytest -n auto --dist loadgroup --junitxml=/tmp/jax.xml   # then, say, on tensorflow
    python tests/durations.py /tmp/jax.xml /tmp/tf.xml [--top 20]

A cell reads ``seconds (tests, skipped)``; the seconds are the tests' own (setup, call and teardown, module
fixtures included in the first test that asks for them) summed over the workers, so with N workers the
wall-clock time is about the total over N. ``--top K`` adds the K slowest tests of each file given.
"""

import argparse
import collections
import xml.etree.ElementTree as ET


def per_file(path):
    """``{file: [seconds, tests, skipped]}`` and ``[(seconds, test id)]`` of one JUnit XML file."""
    files, tests = collections.defaultdict(lambda: [0.0, 0, 0]), []
    for case in ET.parse(path).getroot().iter("testcase"):
        seconds = float(case.get("time") or 0)
        module = case.get("classname", "").removeprefix("tests.").split(".")[0]
        row = files[module]
        row[0] += seconds
        row[1] += 1
        row[2] += case.find("skipped") is not None
        tests.append((seconds, f"{module}::{case.get('name')}"))
    return files, sorted(tests, reverse=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xml", nargs="+", help="JUnit XML files written by pytest --junitxml")
    parser.add_argument("--top", type=int, default=0, metavar="K", help="also list the K slowest tests of each file")
    args = parser.parse_args(argv)
    runs = [per_file(path) for path in args.xml]
    names = {name for files, _ in runs for name in files}
    names = sorted(names, key=lambda name: -max(f.get(name, [0])[0] for f, _ in runs))
    print("| file | " + " | ".join(f"{path} s (tests, skipped)" for path in args.xml) + " |")
    print("|---|" + "---|" * len(runs))
    for name in names:
        cells = [f"{f[name][0]:.0f} ({f[name][1]}, {f[name][2]})" if name in f else "" for f, _ in runs]
        print(f"| {name} | " + " | ".join(cells) + " |")
    totals = [
        f"{sum(r[0] for r in f.values()):.0f} ({sum(r[1] for r in f.values())}, {sum(r[2] for r in f.values())})"
        for f, _ in runs
    ]
    print("| total | " + " | ".join(totals) + " |")
    for path, (_, tests) in zip(args.xml, runs):
        if args.top:
            print(f"\nslowest in {path}:")
            for seconds, name in tests[: args.top]:
                print(f"{seconds:8.2f}  {name}")


if __name__ == "__main__":
    main()

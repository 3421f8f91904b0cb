"""A process that decodes part of an image folder into its cache:
``python -m aekit.datasets._decode_worker TASKS.json``.

:mod:`._image_cache` starts a few of these for a large folder, each with its share of the decoding
tasks (chunks of rows); each writes its rows into the cache's temporary file and prints the
problems it found (files that cannot be decoded, transparency that matters) as JSON.
"""

from __future__ import annotations

import json
import sys


def main(tasks_file: str) -> None:
    from aekit.datasets._image_cache import decode_chunk

    with open(tasks_file) as f:
        tasks = json.load(f)
    problems = []
    for task in tasks:
        found = decode_chunk(*task)
        problems.extend(found)
        if any(kind == "inexact" for _, kind, _ in found):
            break  # the folder is decoded again as float32
    sys.stdout.write(json.dumps(problems))


if __name__ == "__main__":
    main(sys.argv[1])

"""One aekit training across several machines (or processes), data-parallel, with ``jax.distributed``.

Start the same command on every machine, each with its own ``--process-id`` (0 is the coordinator,
whose address every process is given):

    # machine 0 (host0)                                        # machine 1
    python examples/multihost.py --coordinator host0:12345 \\   python examples/multihost.py --coordinator host0:12345 \\
        --processes 2 --process-id 0 \\                             --processes 2 --process-id 1 \\
        --data /shared/shards --out /shared/model.keras             --data /shared/shards --out /shared/model.keras

What happens: ``jax.distributed.initialize`` joins the processes into one jax runtime, so
``jax.devices()`` lists the devices of every machine; ``fit(..., distribution="all")`` builds the
model under ``keras.distribution.DataParallel`` over all of them; every global batch (the order is
the same ``(seed, epoch)`` permutation as on one machine) is split between the processes, each
reading only its part from the data (which every machine must see, e.g. on a shared file
system: a folder of images, ``.npy`` shards or one ``.npy`` file); gradients are averaged over all
devices, so the losses are one device's losses (to rounding). Every process seeds Keras alike
(aekit does, from the model's ``seed``), so all start from the same weights. Process 0 writes the
checkpoint after every epoch; ``--resume`` continues from it on any number of processes. Encoding
and evaluating are single-process: load the checkpoint on one machine (``aekit evaluate model.keras``).

On one machine, ``--local N`` starts N processes itself (each a CPU device here, or one GPU each
where ``CUDA_VISIBLE_DEVICES`` is set per process by your launcher), which is how aekit's test
suite checks this script (``tests/test_devices.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coordinator", help="host:port of process 0 (every process is given the same)")
    parser.add_argument("--processes", type=int, default=1, help="how many processes take part")
    parser.add_argument("--process-id", type=int, default=0, help="this process's number, 0 to processes-1")
    parser.add_argument("--local", type=int, default=0, metavar="N", help="start N processes on this machine and wait for them")
    parser.add_argument("--data", required=True, help="folder of images, folder or glob of .npy shards, .npy or .csv file")
    parser.add_argument("--out", required=True, help="the model file process 0 writes after every epoch (.keras)")
    parser.add_argument("--family", default="dense", help="aekit family (default: dense)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256, help="the global batch, split over all devices")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from --out (written by an earlier run)")
    args = parser.parse_args(argv)
    if args.local:
        return _launch_locally(args, argv if argv is not None else sys.argv[1:])

    import jax

    if args.processes > 1:
        jax.distributed.initialize(coordinator_address=args.coordinator, num_processes=args.processes,
                                   process_id=args.process_id)
    import aekit
    from aekit.datasets import open_source

    source = open_source(args.data)
    if args.family in ("dense", "sparse", "denoising", "vae"):
        source = source.reshape(len(source), -1)
    if args.resume:
        model = aekit.load(args.out)
        model.epochs = args.epochs
    else:
        model = aekit.families()[args.family](epochs=args.epochs, batch_size=args.batch_size, seed=args.seed)
    model.fit(source, distribution="all", checkpoint=args.out, resume=args.resume)
    if jax.process_index() == 0:
        print("RESULT " + json.dumps({"processes": jax.process_count(), "devices": len(jax.devices()),
                                      "history": model.history_}), flush=True)
    return 0


def _launch_locally(args, argv) -> int:
    """Start ``--local`` processes of this script on this machine, coordinated on a free local port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rest = [a for i, a in enumerate(argv) if not (a.startswith("--local") or (i and argv[i - 1] == "--local"))]
    processes = [
        subprocess.Popen([sys.executable, __file__, *rest, "--coordinator", f"127.0.0.1:{port}",
                          "--processes", str(args.local), "--process-id", str(i)], env=os.environ.copy())
        for i in range(args.local)
    ]
    return max(p.wait() for p in processes)


if __name__ == "__main__":
    sys.exit(main())

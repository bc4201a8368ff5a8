"""What the PyTorch yardsticks share: their command line and the timing `launcher bench` uses
(warm-up iterations excluded, wall time of the timed ones)."""
import argparse
import json
import time

import torch


def image_arguments(description, resolution, add_options=lambda parser: None):
    """The yardsticks' options: the images' side and channels, threads, batch and iterations, and
    what `add_options` adds to the parser."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--resolution", type=int, default=resolution)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    return args


def seconds_per_run(iterate, warmup, iterations):
    """The wall time of `iterations` calls of `iterate` after `warmup` untimed ones."""
    for _ in range(warmup):
        iterate()
    start = time.perf_counter()
    for _ in range(iterations):
        iterate()
    return time.perf_counter() - start


def report_images(name, iterate, args):
    """Times `iterate` on the arguments' batches and prints images/s, as a line or JSON."""
    seconds = seconds_per_run(iterate, args.warmup, args.iterations)
    n = args.batch_size
    result = {"resolution": args.resolution, "channels": args.channels, "threads": args.threads, "batch_size": n,
              "images_per_second": n * args.iterations / seconds, "ms_per_iteration": seconds * 1000 / args.iterations,
              "torch": torch.__version__}
    print(json.dumps(result) if args.json else
          f"{name}, {args.resolution}x{args.resolution}x{args.channels}, batch {n}, {args.threads} thread(s): "
          f"{result['images_per_second']:.1f} images/s, {result['ms_per_iteration']:.1f} ms per iteration")

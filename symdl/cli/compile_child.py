"""The child process of a tiered compile (`symdl.runtime.tiers`): reads a `Job` as JSON on stdin, builds the same
model and bound function, and compiles it into the on-disk caches (PyTensor's compiledir, Numba's cache).

    python -m symdl.cli.compile_child PARENT_PID < job.json
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import replace


def main() -> int:
    import numpy as np

    from symdl.api import open_model
    from symdl.runtime.parent import die_with_parent
    from symdl.runtime.tiers import Job

    die_with_parent(int(sys.argv[1]), signal.SIGKILL)  # killed: what it has compiled is cached already
    os.nice(3)  # the training steps keep most of the CPU; at 10 the compile got ~1 s of CPU in 25 s and never finished
    job = Job.from_json(sys.stdin.read())
    config = replace(job.config, backends=((job.name, job.backend),), quiet=True, out=None, resume=None)
    _, model = open_model(config)

    import pytensor

    from symdl.lowering.lower import Binding

    slots = {name: pytensor.shared(np.zeros(shape, dtype), name=f"{job.name}.{name}", borrow=True) for name, dtype, shape in job.slots}
    model.compile(job.name, Binding(slots, job.batch), job.fed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Forward-gradient training on a Dask cluster, exchanging directional derivatives
instead of gradients (docs/distributed.md).

Each worker process holds a replica of the parameters. A step's directions are cut into
blocks (:mod:`dualnum.fgrad.directions`), each regenerable anywhere from the step's key;
every replica evaluates its blocks and returns their directional derivatives, O(K)
numbers whatever the model's size, and every replica (and the driver) applies the same
update from all of them. Dask is imported here only, and only when a run starts:
``pip install 'dualnum[distributed]'``.

:class:`DistributedRun` is :class:`dualnum.run.Run` on a cluster (``dualnum train
--workers N`` or ``--scheduler tcp://HOST:PORT``).
"""
from .run import DistributedError, DistributedRun, ReplicasDivergedError, WorkersLostError

__all__ = ["DistributedRun", "DistributedError", "ReplicasDivergedError", "WorkersLostError"]

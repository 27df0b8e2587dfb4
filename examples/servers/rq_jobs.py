"""The jobs py-rq's workers run (RQ imports them by name, rq_jobs.cpu and rq_jobs.query).

Each returns None when all went well, or what was wrong (the front reports it as a fault). The
database connection is the worker process's own, kept for its life (pooled) or opened for each job
(per request): a SimpleWorker runs every job in its one process, one job at a time.
"""
import scenario
from blocking import PerThread

_holder = None


def cpu(iterations):
    scenario.burn(iterations)


def query(row_id):
    global _holder
    if _holder is None:
        _holder = PerThread()
    c = _holder.acquire()
    try:
        wrong = c.query(row_id)
    except Exception:
        _holder.release(c, True)
        raise
    _holder.release(c, bool(wrong))
    return wrong

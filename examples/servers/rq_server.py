"""RQ (Redis Queue): an asyncio front that hands each request's work to --workers RQ worker processes.

What the write-ups offer for work that must spread over processes or machines: a job queue. The
front is py-asyncio's design (asyncio streams and minihttp, uvloop when installed); for each
request in cpu it enqueues the request's CPU work as an RQ job on Redis and waits for its result,
and in io-wait the job is the query (blocking psycopg2 in the worker, one connection per worker
kept for its life, or one per job per request; the service likewise), so a request's answer costs
a round trip through Redis to a worker process and back. In steady, idle, churn and payload it
would be py-asyncio: it declares cpu and io-wait only.

The front starts its CB_WORKERS workers itself (forked before its loop starts, in its own process
group, so the harness samples and ends them) and listens once they have registered. Redis is the
harness's: CB_REDIS_HOST and CB_REDIS_PORT (README: "Measure your own server").
- Enqueueing is RQ's blocking Queue.enqueue, called on the loop: RQ has no asyncio API, and one
  pipelined round trip is what a web handler calling RQ pays.
- The result is awaited with redis.asyncio: XREAD BLOCK on the job's result stream (rq:results:<id>,
  where RQ 1.12+ writes it), what later RQ's Job.latest_result(timeout=...) does, without polling.
- The workers are RQ's SimpleWorker, which runs each job in the worker process. RQ's default Worker
  forks a work horse per job, which sandboxes a job but costs a fork each and would open a database
  session per job (rq/rq#210); RQ's own performance notes allow SimpleWorker for jobs of a few
  milliseconds, as these are. PY_RQ_WORKER=fork (an entry's "env") runs the default Worker instead.
Usage: rq_server.py PORT http (the scenario comes from CB_* variables, see scenario.py)
"""
import asyncio
import multiprocessing
import os
import sys
import time
import traceback

import scenario
from minihttp import session

QUEUE = "cb"
JOB_TIMEOUT_MS = 20_000
FORK = multiprocessing.get_context("fork")


def redis_address():
    return scenario.ENV.get("CB_REDIS_HOST", "127.0.0.1"), int(scenario.ENV["CB_REDIS_PORT"])


def run_worker(index):
    import ctypes
    import signal
    # A worker must not outlive its front when the front is killed outside the harness (which ends the group).
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    from redis import Redis
    from rq import Queue, SimpleWorker, Worker
    host, port = redis_address()
    conn = Redis(host=host, port=port)
    cls = Worker if os.environ.get("PY_RQ_WORKER") == "fork" else SimpleWorker
    worker = cls([Queue(QUEUE, connection=conn)], connection=conn, name="cb-%d-%d" % (os.getppid(), index), log_job_description=False)
    worker.work(logging_level="WARNING")


def start_workers():
    """Forks the workers and waits until every one has registered with Redis."""
    from redis import Redis
    from rq import Queue, Worker
    workers = [FORK.Process(target=run_worker, args=(i,), daemon=True) for i in range(max(1, scenario.WORKERS))]
    for w in workers:
        w.start()
    host, port = redis_address()
    queue = Queue(QUEUE, connection=Redis(host=host, port=port))
    until = time.monotonic() + 15
    while Worker.count(queue=queue) < len(workers):
        if time.monotonic() > until or not all(w.is_alive() for w in workers):
            sys.exit("rq_server: %d of %d workers registered with Redis" % (Worker.count(queue=queue), len(workers)))
        time.sleep(0.02)
    return workers


class Jobs:
    def __init__(self):
        import redis.asyncio
        from redis import Redis
        from rq import Queue
        from rq.results import Result
        self.Result = Result
        host, port = redis_address()
        self.queue = Queue(QUEUE, connection=Redis(host=host, port=port))
        self.results = redis.asyncio.Redis(host=host, port=port)

    async def run(self, func, *args):
        """Enqueues one job and waits for its result: None when it succeeded and found nothing wrong."""
        job = self.queue.enqueue(func, *args, result_ttl=60, failure_ttl=60)
        got = await self.results.xread({self.Result.get_key(job.id): "0-0"}, count=1, block=JOB_TIMEOUT_MS)
        if not got:
            return "rq: no result within %d ms" % JOB_TIMEOUT_MS
        result_id, payload = got[0][1][0]
        r = self.Result.restore(job.id, result_id.decode(), payload, connection=None)
        if r.type != self.Result.Type.SUCCESSFUL:
            return "rq: the job failed: %s" % (r.exc_string or "").strip().split("\n")[-1]
        return r.return_value


async def serve(reader, writer, jobs):
    s = session("http")
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            out = s.feed(data)
            if out:
                if scenario.WORK_US:
                    wrong = await ask(jobs, "rq_jobs.cpu", scenario.ITERATIONS)
                else:
                    wrong = await ask(jobs, "rq_jobs.query", scenario.next_row()) if scenario.IO_WAIT else None
                if wrong:
                    break
                writer.write(out)
                await writer.drain()
            if s.close:
                break
    except ConnectionError:
        pass
    finally:
        writer.close()


async def ask(jobs, func, arg):
    try:
        wrong = await jobs.run(func, arg)
    except Exception as e:
        wrong = "rq: %s" % traceback.format_exception_only(type(e), e)[-1].strip()
    if wrong:
        scenario.fault(wrong)
    return wrong


async def main():
    jobs = Jobs()
    server = await asyncio.start_server(lambda r, w: serve(r, w, jobs), "127.0.0.1", scenario.PORT, backlog=4096)
    scenario.listening(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    scenario.start()  # calibrated here, before the fork: every worker burns the same count
    start_workers()
    try:
        import uvloop
        uvloop.install()
        print("rq_server: RQ front on uvloop", file=sys.stderr)
    except ImportError:
        print("rq_server: RQ front on the standard asyncio loop", file=sys.stderr)
    asyncio.run(main())

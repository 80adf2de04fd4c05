import random
from time import sleep

from odoo.service.model import MAX_TRIES_ON_CONCURRENCY_FAILURE, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY


def retry_on_concurrency(env, work, *, logger, label, batch, left_to):
    """Run ``work()`` in the current transaction of ``env`` and flush it; return ``(True, its result)``.

    A concurrency error (serialization failure, lock not available, deadlock: another transaction changed
    the same rows since this one started) is not the batch's fault: the whole transaction is rolled back,
    since a savepoint would keep the stale snapshot, and ``work`` is tried again on fresh data, with the
    errors, number of tries and random backoff of Odoo's own ``odoo.service.model.retrying`` (which
    cannot be used as is in a cron: it commits). After the last try, ``(False, None)``: the batch is left
    to a later run (``left_to`` says which, in the log) instead of failing the cron job. ``label`` names
    the job and ``batch`` the batch ("3 leads") in the log lines.
    """
    for tryno in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
        try:
            result = work()
            # the batch's writes reach the database here, inside the retry, not at the commit
            env.flush_all()
            return True, result
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as exc:
            env.cr.rollback()
            env.registry.reset_changes()
            if tryno == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                logger.warning(
                    "%s: %s on a batch of %s after %s tries; the batch is left to %s",
                    label,
                    type(exc).__name__,
                    batch,
                    tryno,
                    left_to,
                )
                return False, None
            wait = random.uniform(0.0, 2**tryno)
            logger.info(
                "%s: %s, batch of %s rolled back; try again in %.2f s", label, type(exc).__name__, batch, wait
            )
            sleep(wait)
    return False, None

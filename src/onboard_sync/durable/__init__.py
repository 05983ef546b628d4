"""The durable engine: ``onboard-sync worker`` on DBOS Transact (pinned 3.4.0), many workers, one store.

Public shape (kept stable; ``onboard-sync cluster``, the metrics and the multi-host tests build on it):

* :mod:`~onboard_sync.durable.system_db`: ``system_database(store_url) -> SystemDatabase``:
  where DBOS keeps its tables (PostgreSQL: the store's database, schema ``dbos`` or
  ``<store schema>_dbos``; SQLite: ``<store file>.dbos.sqlite``, one machine only).
* :mod:`~onboard_sync.durable.triggers`: ``QUEUE`` (the queue, partitioned by connector instance,
  partition concurrency 1), ``RECONCILE_WORKFLOW`` / ``SCHEDULE_WORKFLOW`` (workflow names),
  ``engine_client(system) -> DBOSClient`` and ``request_reconcile(client, instance, trigger)``
  (enqueue from anywhere, e.g. a receiver), ``enqueue_options(instance)``.
* :mod:`~onboard_sync.durable.worker`: ``run_worker(runtime, stop, options=WorkerOptions(...),
  reconciled=callback(instance, trigger, outcome, seconds), started=callback(worker_id))``.
* :mod:`~onboard_sync.durable.unit`: ``run_trigger(runtime, store, instance, trigger,
  requested_at)``: what one queued reconcile does (engine-free; calls
  :func:`onboard_sync.reconcile.reconcile`).
* :mod:`~onboard_sync.durable.heartbeat`: the ``workers`` table's beats (``Store.workers()``
  lists them: id, host, pid, started_at, last_beat) and the recovery of stale workers.
* :mod:`~onboard_sync.durable.schedules`: config ``schedule`` keys as DB-stored schedules;
  ``list_views(client)``, ``set_paused(client, instance, paused)``.

Nothing here is imported by ``sync``, ``plan`` or the embedded ``serve``: the SQLite cron path
runs as before with no engine process.
"""

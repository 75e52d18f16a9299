"""What the whole service looks like now, read from Redis and the database at each scrape.

One process exposes these (the scheduler, of which exactly one runs), so Prometheus never adds
up copies: queue depth and failed jobs by queue, connections by kind and status, how far the
most overdue sync is behind, and how long the oldest unsent email has waited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from service import clock
from service.models import Connection, OutboxEmail
from workers import runtime
from workers.schedule import QUEUES

log = logging.getLogger(__name__)


class ServiceState(Collector):
    """Gauges of the queues (Redis) and of the rows waiting for work (the database)."""

    def __init__(self, connection: Redis) -> None:
        self.connection = connection

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("touchpoint_state_up", "Whether Redis and the database answered")
        try:
            found = [*self._queues(), *self._rows(clock.now())]
        except Exception as error:  # a scrape says "down"; it never takes the scheduler down
            log.warning("metrics: cannot read the service's state: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found

    def _queues(self) -> list[Metric]:
        waiting = GaugeMetricFamily("touchpoint_queue_jobs", "Jobs waiting", labels=["queue"])
        failed = GaugeMetricFamily(
            "touchpoint_queue_failed_jobs", "Jobs in the failed registry", labels=["queue"]
        )
        for name in QUEUES:
            waiting.add_metric([name], Queue(name, connection=self.connection).count)
            failed.add_metric([name], FailedJobRegistry(name, connection=self.connection).count)
        return [waiting, failed]

    def _rows(self, now: datetime) -> list[Metric]:
        connections = GaugeMetricFamily(
            "touchpoint_connections", "Calendar connections", labels=["kind", "status"]
        )
        with runtime.current().database.unit() as session:
            by_status = select(Connection.kind, Connection.status, func.count()).group_by(
                Connection.kind, Connection.status
            )
            for kind, status, count in session.execute(by_status):
                connections.add_metric([kind, status], count)
            overdue = session.scalar(
                select(func.min(Connection.next_sync_at)).where(Connection.next_sync_at <= now)
            )
            oldest = session.scalar(
                select(func.min(OutboxEmail.created_at)).where(
                    OutboxEmail.sent_at.is_(None), OutboxEmail.refused_at.is_(None)
                )
            )
        lag = GaugeMetricFamily(
            "touchpoint_sync_lag_seconds", "How long the most overdue connection has waited"
        )
        lag.add_metric([], _age(now, overdue))
        unsent = GaugeMetricFamily(
            "touchpoint_oldest_unsent_email_seconds", "How long the oldest unsent email has waited"
        )
        unsent.add_metric([], _age(now, oldest))
        return [connections, lag, unsent]


def _age(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    aware = since if since.tzinfo is not None else since.replace(tzinfo=UTC)  # SQLite's
    return max((now - aware).total_seconds(), 0.0)

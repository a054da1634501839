"""The Prometheus endpoint (`METRICS_PORT`): counters kept as things happen, and figures read
from the database when Prometheus asks. Numbers only: no chat, person or child is named.

The counters are bumped where every update passes (the update processor; the error handler
for failures) and by the reminder job. The database figures are read on each scrape by
the scraping thread handing one short query to the bot's event loop, so they are fresh,
cost nothing when nobody looks, and never block the loop: the query awaits like any other."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.services import Services
from storage import gauges

log = logging.getLogger("carebot.metrics")
READ_TIMEOUT = 5.0  # a scrape waits this long for the database, then reports it down

UPDATES_PROCESSED = Counter("carebot_updates_processed", "Updates handled, whatever came of them")
UPDATES_FAILED = Counter(
    "carebot_updates_failed", "Updates whose handling raised (the error handler apologised)"
)
BACKGROUND_ERRORS = Counter("carebot_background_errors", "Errors outside any update: jobs, polling")
REMINDER_RUN = Histogram(
    "carebot_reminder_run_seconds",
    "How long a run of the reminder planner took",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
REMINDER_LAST_SUCCESS = Gauge(
    "carebot_reminder_last_success_timestamp_seconds",
    "When a run of the reminder planner last succeeded",
)


class MetricsUnavailable(RuntimeError):
    """The endpoint could not listen (the port is taken, the address not this machine's)."""


class DatabaseFigures(Collector):
    """The outbox's backlog and the unacknowledged urgent reports, read on each scrape."""

    def __init__(self, services: Services, loop: asyncio.AbstractEventLoop) -> None:
        self.services, self.loop = services, loop

    def describe(self) -> list[GaugeMetricFamily]:  # registering must not scrape (deadlock)
        return [GaugeMetricFamily(name, text) for name, text, _ in _FIGURES] + [_up(0)]

    def collect(self) -> Iterator[GaugeMetricFamily]:  # on the scraping thread
        future = asyncio.run_coroutine_threadsafe(self._read(), self.loop)
        try:
            figures = future.result(READ_TIMEOUT)
        except Exception as exc:  # down, locked past the timeout, or the loop is stopping
            future.cancel()
            log.warning("metrics: the database did not answer: %s", type(exc).__name__)
            yield _up(0)
            return
        yield _up(1)
        for name, text, attribute in _FIGURES:
            yield GaugeMetricFamily(name, text, value=getattr(figures, attribute))

    async def _read(self) -> gauges.Gauges:
        async with self.services.sessions() as session:
            return await gauges.read(session, self.services.now())


_FIGURES = (
    ("carebot_outbox_unsent", "Outbox messages not sent yet (held ones too)", "outbox_unsent"),
    (
        "carebot_outbox_oldest_wait_seconds",
        "How long the longest-waiting due outbox message has waited",
        "outbox_oldest_wait",
    ),
    (
        "carebot_urgent_unacknowledged",
        "Urgent reports nobody has taken yet",
        "urgent_unacknowledged",
    ),
    (
        "carebot_urgent_oldest_unacknowledged_seconds",
        "Age of the oldest urgent report nobody has taken yet",
        "urgent_oldest_age",
    ),
)


def _up(value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "carebot_database_up", "1 when the last scrape could read the database", value=value
    )


@dataclass
class Endpoint:
    server: WSGIServer
    thread: Thread
    figures: DatabaseFigures

    @property
    def port(self) -> int:
        return self.server.server_port

    async def stop(self) -> None:
        REGISTRY.unregister(self.figures)
        await asyncio.to_thread(self.server.shutdown)  # waits for its loop to notice
        self.server.server_close()


def start(services: Services, host: str, port: int) -> Endpoint:
    """Serves /metrics on host:port from a thread of its own; call on the bot's event loop."""
    figures = DatabaseFigures(services, asyncio.get_running_loop())
    try:
        server, thread = start_http_server(port, host)
    except OSError as exc:
        raise MetricsUnavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    REGISTRY.register(figures)
    log.info("metrics on http://%s:%d/metrics", host, server.server_port)
    return Endpoint(server, thread, figures)

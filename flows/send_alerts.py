"""The send-alerts flow: deliver every owed alert that is due, on its own schedule.

Digests go out at their hour and failed deliveries are retried whether or not an ingestion
runs; the daily flow sends right after storing too. Senders claim rows, so this flow, the
daily flow and ``newswatch alerts send`` may run at once without sending anything twice. A run
in which a delivery failed ends Failed, so the failure shows where the operator looks.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.served_runs import end_with_serve
from pipeline.alerts import send_alerts as deliver
from pipeline.configuration import load_alerts_config
from pipeline.errors import DeliveryError
from pipeline.settings import find_config_files
from pipeline.store import db


@flow(name="send-alerts", log_prints=True)
def send_alerts(
    db_url: str | None = None,
    config_dir: str | None = None,
    alerts_path: str | None = None,
) -> dict[str, Any]:
    """Deliver the owed alerts that are due; Failed when a delivery failed."""
    end_with_serve()
    files = find_config_files(config_dir, alerts=alerts_path)
    config = load_alerts_config(files)
    engine = db.open_engine(db.resolve_db_url(db_url))
    try:
        report = deliver(engine, config)
    finally:
        engine.dispose()
    print(
        f"alerts: {report.sent} sent, {report.failed} failed, {report.unknown} unknown outcome,"
        f" {report.dead} dead, {report.waiting} waiting"
    )
    if not report.ok:
        raise DeliveryError("; ".join(report.errors))
    return report.as_dict()

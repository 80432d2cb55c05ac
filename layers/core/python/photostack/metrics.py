"""CloudWatch Embedded Metric Format: a metric is one JSON line on stdout.

On AWS, CloudWatch Logs turns such lines into metrics by itself; locally the process
executor does the same for LocalStack's CloudWatch (infra/localstack/executor). Written
by hand rather than with aws-lambda-powertools' ``Metrics``: importing that package costs
about 100 ms of cold start here (measured: ``import aws_lambda_powertools.metrics`` 95 to
210 ms on this 2-core machine), for what is one ``json.dumps`` per metric.

    emit("Requests", route="/events", status_class="2xx")
    emit("PhotosProcessed", status="ready")
"""

from __future__ import annotations

import json
import sys
import time

from photostack.config import get_platform

NAMESPACE = "photostack"
UNITS = frozenset({"Count", "Milliseconds", "Bytes", "None"})


def record(name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> dict[str, object]:
    """The EMF document of one metric, with the function's name as a dimension."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {sorted(UNITS)}")
    dims = {"function": get_platform().function_name or "local", **dimensions}
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [sorted(dims)],
                                   "Metrics": [{"Name": name, "Unit": unit}]}],
        },
        **dims,
        name: value,
    }


def emit(name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> None:
    sys.stdout.write(json.dumps(record(name, value, unit, **dimensions)) + "\n")
    sys.stdout.flush()

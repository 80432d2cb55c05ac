"""Embedded Metric Format: what the functions print, and what the executor turns into metrics."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from photostack import metrics
from photostack.config import reset_settings

pytestmark = pytest.mark.unit

EXTRACTOR = (Path(__file__).resolve().parents[2] / "infra" / "localstack" / "executor"
             / "photostack_localstack_executor" / "metrics.py")


def extractor() -> ModuleType:
    spec = importlib.util.spec_from_file_location("emf_extractor", EXTRACTOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_metric_is_one_emf_line_with_the_function_as_a_dimension(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "photostack-photos")
    reset_settings()  # read once per process, as a cold start does
    metrics.emit("Requests", route="/events", status_class="2xx")
    line = capsys.readouterr().out
    assert line.count("\n") == 1
    doc = json.loads(line)
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "photostack"
    assert directive["Dimensions"] == [["function", "route", "status_class"]]
    assert directive["Metrics"] == [{"Name": "Requests", "Unit": "Count"}]
    assert (doc["function"], doc["route"], doc["Requests"]) == ("photostack-photos", "/events", 1)


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(ValueError):
        metrics.record("Requests", unit="Parsecs")


def test_the_executor_extracts_what_the_function_printed() -> None:
    line = json.dumps(metrics.record("PhotosProcessed", 3, status="ready"))
    found = extractor().metric_data(line)
    assert found is not None
    namespace, data = found
    assert namespace == "photostack"
    assert [(d["MetricName"], d["Value"], d["Unit"]) for d in data] == [("PhotosProcessed", 3.0, "Count")]
    assert {x["Name"]: x["Value"] for x in data[0]["Dimensions"]} == {"function": "local", "status": "ready"}


@pytest.mark.parametrize("line", ["", "plain text", '{"msg": "request", "status": 200}',
                                  '{"_aws": {"Timestamp": "soon"}}', '{"_aws": 3', "START RequestId: x"])
def test_other_log_lines_are_not_metrics(line: str) -> None:
    assert extractor().metric_data(line) is None


def test_metrics_queued_together_go_out_in_one_request_per_namespace() -> None:
    # Under load each invocation's metric was its own PutMetricData through LocalStack's gateway.
    module = extractor()
    shipper = module.MetricsShipper()
    lines = [json.dumps(metrics.record("Requests", route=f"/r{i}", status_class="2xx")) for i in range(5)]
    for line in lines:
        found = module.metric_data(line)
        assert found is not None
        shipper._queue.put_nowait(found)
    batches = shipper._batch()
    assert [(namespace, len(data)) for namespace, data in batches] == [("photostack", 5)]
    assert sorted(d["Dimensions"][1]["Value"] for d in batches[0][1]) == [f"/r{i}" for i in range(5)]


def test_lambda_invocation_counters_add_up_to_one_statistic_set_per_function() -> None:
    # LocalStack's AWS/Lambda metrics were one PutMetricData per invocation; the plugin counts them.
    module = extractor()
    shipper = module.MetricsShipper()
    shipper._started = True  # no sending thread: only what it would send
    for _ in range(3):
        shipper.count("AWS/Lambda", "Invocations", {"FunctionName": "photostack-photos"},
                      account_id="000000000000", region_name="us-east-1")
    shipper.count("AWS/Lambda", "Errors", {"FunctionName": "photostack-photos"},
                  account_id="000000000000", region_name="us-east-1")
    sent = {datum["MetricName"]: (where, namespace, datum)
            for where, namespace, datum in shipper.take_counts()}
    where, namespace, invocations = sent["Invocations"]
    assert (where, namespace) == (("000000000000", "us-east-1"), "AWS/Lambda")
    assert invocations["Dimensions"] == [{"Name": "FunctionName", "Value": "photostack-photos"}]
    assert invocations["StatisticValues"] == {"SampleCount": 3.0, "Sum": 3.0, "Minimum": 1.0, "Maximum": 1.0}
    assert sent["Errors"][2]["StatisticValues"]["Sum"] == 1.0
    assert shipper.take_counts() == []  # sent once

"""What each API request costs LocalStack: the cuts, installed when LocalStack starts.

Under ``ab -c 32`` against the deployed stack, LocalStack's one Python process is what bounds the
emulated API path (its CPU per request, not the function's). py-spy showed where that CPU went
beyond the gateway itself; each cut keeps what a caller or a test observes:

- apigateway_lambda.py: API Gateway's Lambda proxy integration invokes the Lambda service in the
  same process instead of through an internal boto client and a second pass through the gateway;
- lambda_logs.py: the functions' logs reach CloudWatch Logs in one PutLogEvents per log stream
  per quarter second instead of one per invocation;
- metrics.py: a PutMetricData is one SQLite transaction, not one per datum;
- quiet_logs.py: LocalStack's request log keeps the failed requests only, and its HTTP server
  formats no access-log lines that nothing reads;
- gc_policy.py: a full garbage collection walks only what was allocated since the last one (its
  survivors are frozen), not LocalStack's whole heap, so its pause does not grow with the heap;
- keepalive_timers.py: an execution environment's keepalive timer waits in one shared scheduler
  instead of being a new thread started at every invocation's end.

Measured and not done: request ids (``uuid.uuid4``) and API Gateway's trace ids
(``secrets.token_hex``) served from one ``os.urandom(4096)`` under a lock, since py-spy --gil put
``uuid4`` and ``SystemRandom`` at ~5 % of its samples. LocalStack restarted per setting,
alternating, 3 rounds of 2 x 10 s of ``ab -c 32`` on GET /probe/ok: 316-411 requests/s (p99
118-170 ms, LocalStack 2.44-3.12 ms CPU per request) as it is, 293-336 (p99 171-203 ms, 2.95-3.34
ms) with the buffer: its lock costs more hand-offs than the system calls it saves.

The executor plugin (plugin.py) adds the Lambda metrics batching and the once-only deprecation
warnings when LocalStack loads it.
"""

from __future__ import annotations

from localstack.runtime import hooks

from photostack_localstack_executor import (
    apigateway_lambda,
    gc_policy,
    keepalive_timers,
    lambda_logs,
    metrics,
    quiet_logs,
)


@hooks.on_infra_start()
def photostack_request_path() -> None:
    apigateway_lambda.install()
    lambda_logs.install()
    metrics.one_transaction_per_put_metric_data()
    quiet_logs.log_failed_requests_only()
    quiet_logs.drop_twisted_access_log()
    gc_policy.install()
    keepalive_timers.install()

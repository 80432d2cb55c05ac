"""API Gateway's Lambda proxy integration calls the Lambda service in the same process.

LocalStack's ``AWS_PROXY`` integration invokes the function through an internal boto client: the
event is serialized into an HTTP request, runs LocalStack's whole handler chain (parsing, request
context, logging, serializing), and the answer is parsed back, all in LocalStack's one Python
process. Under ``ab -c 32`` on GET /probe/ok that client was about a quarter of LocalStack's busy
CPU (py-spy: botocore ``_make_api_call`` under ``RestApiAwsProxyIntegration.call_lambda``).

Here ``call_lambda`` calls the Lambda provider's ``Invoke`` operation directly, with the request
context the internal client's request would have had (the internal caller's account, the
function's region, a fresh request id and X-Ray root, API Gateway as the calling principal). What
the integration sees is unchanged: the payload bytes (a function error is its error document,
which the integration turns into a 502), and a Lambda service error as a botocore ``ClientError``
with the same code, so LocalStack's own mapping (AccessDeniedException 500, any other 502) still
applies. An integration with its own credentials (a role to assume) keeps LocalStack's client path.

Installed at start-up by request_path.py.
"""

from __future__ import annotations

import io
import logging
import threading
from typing import Any

LOG = logging.getLogger(__name__)
USER_AGENT = "localstack-apigateway-in-process"


class InProcessLambda:
    """The Lambda provider and the parts of a request context that every call shares."""

    def __init__(self) -> None:
        from localstack.aws.accounts import get_account_id_from_access_key_id
        from localstack.aws.spec import load_service
        from localstack.constants import INTERNAL_AWS_ACCESS_KEY_ID
        from localstack.http import Request
        from localstack.services.plugins import SERVICE_PLUGINS

        service = SERVICE_PLUGINS.require("lambda")
        self.provider: Any = service._provider  # the LambdaProvider serving Lambda's API here
        if self.provider is None or not hasattr(self.provider, "invoke"):
            raise RuntimeError("LocalStack's Lambda provider is not loaded")
        self.service_model = load_service("lambda")
        self.operation = self.service_model.operation_model("Invoke")
        # The account LocalStack's internal client calls as (it has no credentials of its own).
        self.account_id = get_account_id_from_access_key_id(INTERNAL_AWS_ACCESS_KEY_ID)
        # Read only (the provider takes the caller's user agent from it): one for every call.
        self.request = Request("POST", "/2015-03-31/functions/-/invocations",
                               headers={"User-Agent": USER_AGENT})

    def invoke(self, function_arn: str, event: bytes, source_arn: str) -> bytes:
        from botocore.exceptions import ClientError
        from localstack.aws.api import RequestContext, ServiceException
        from localstack.aws.api.lambda_ import InvocationType
        from localstack.utils.aws.arns import extract_region_from_arn
        from localstack.utils.xray.trace_header import TraceHeader

        context = RequestContext(self.request)
        context.service = self.service_model
        context.operation = self.operation
        context.account_id = self.account_id
        context.region = extract_region_from_arn(function_arn) or "us-east-1"
        context.internal_request_params = {"service_principal": "apigateway", "source_arn": source_arn}
        # As LocalStack's trace handler does for a request without X-Amzn-Trace-Id.
        context.trace_context["aws_trace_header"] = TraceHeader.from_header_str(None).ensure_root_exists()
        try:
            response = self.provider.invoke(context, function_name=function_arn,
                                            invocation_type=InvocationType.RequestResponse,
                                            payload=io.BytesIO(event))
        except ServiceException as exc:  # what the client would have raised for the error answer
            raise ClientError({
                "Error": {"Code": exc.code, "Message": exc.message},
                "ResponseMetadata": {"HTTPStatusCode": exc.status_code, "RequestId": context.request_id},
            }, "Invoke") from exc
        payload = response.get("Payload")
        if isinstance(payload, str):
            return payload.encode()
        return bytes(payload) if payload else b""


_LAMBDA: InProcessLambda | None = None
_LAMBDA_LOCK = threading.Lock()


def _in_process() -> InProcessLambda:
    global _LAMBDA
    if _LAMBDA is None:
        with _LAMBDA_LOCK:
            if _LAMBDA is None:
                _LAMBDA = InProcessLambda()
    return _LAMBDA


def install() -> None:
    from localstack.services.apigateway.next_gen.execute_api.integrations.aws import (
        RestApiAwsProxyIntegration,
    )

    original = RestApiAwsProxyIntegration.call_lambda
    if getattr(original, "photostack_in_process", False):
        return

    def call_lambda(function_arn: str, event: bytes, source_arn: str,
                    credentials: str | None = None) -> bytes:
        if credentials:  # a role to assume: LocalStack's client path does that
            return original(function_arn=function_arn, event=event, source_arn=source_arn,
                            credentials=credentials)
        return _in_process().invoke(function_arn, event, source_arn)

    call_lambda.photostack_in_process = True  # type: ignore[attr-defined]
    RestApiAwsProxyIntegration.call_lambda = staticmethod(call_lambda)  # type: ignore[method-assign,assignment]

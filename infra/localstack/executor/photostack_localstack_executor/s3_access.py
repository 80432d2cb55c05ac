"""S3 buckets are private, as on AWS: an anonymous request is refused unless the bucket is public.

LocalStack's community edition serves any object to a plain unsigned GET: it gives every request
without credentials an injected one (``MissingAuthHeaderInjector``) and enforces no bucket
policy. Locally that would hand anyone who guesses a key the clean derivatives and the originals
that photostack sells. This request handler, added to LocalStack's gateway chain at start-up,
refuses S3 requests that carry neither a signature header of their own nor a presigned query
string, except reads of the buckets named in ``PHOTOSTACK_S3_PUBLIC_READ_BUCKETS`` (the web
app's bucket, whose template policy grants public read). Presigned URLs and every SDK client
(always signed) are unaffected.
"""

from __future__ import annotations

import logging
import os

from localstack.aws.api import CommonServiceException, RequestContext
from localstack.aws.chain import HandlerChain
from localstack.http import Response
from localstack.runtime import hooks

LOG = logging.getLogger(__name__)
INJECTED_KEY = "injectedaccesskey"  # what MissingAuthHeaderInjector signs anonymous requests with
PRESIGNED_PARAMS = ("X-Amz-Signature", "Signature")
READS = frozenset({"GetObject", "HeadObject", "ListObjects", "ListObjectsV2", "GetBucketLocation"})


def public_read_buckets() -> frozenset[str]:
    raw = os.environ.get("PHOTOSTACK_S3_PUBLIC_READ_BUCKETS", "")
    return frozenset(b.strip() for b in raw.split(",") if b.strip())


def is_anonymous(context: RequestContext) -> bool:
    request = context.request
    if any(name in request.args for name in PRESIGNED_PARAMS):
        return False
    return INJECTED_KEY in (request.headers.get("Authorization") or "")


class AnonymousS3Guard:
    def __init__(self, public_read: frozenset[str]) -> None:
        self.public_read = public_read

    def __call__(self, chain: HandlerChain, context: RequestContext, response: Response) -> None:
        if context.service is None or context.service.service_name != "s3" or not is_anonymous(context):
            return
        if context.request.method == "OPTIONS":
            return  # a CORS preflight carries no credentials, on AWS too
        operation = context.operation.name if context.operation else ""
        bucket = (context.service_request or {}).get("Bucket", "")
        if operation in READS and bucket in self.public_read:
            return
        LOG.info("refused anonymous S3 %s on bucket %r", operation, bucket)
        raise CommonServiceException("AccessDenied", "Access Denied", status_code=403, sender_fault=True)


@hooks.on_infra_start()
def photostack_private_s3_buckets() -> None:
    from localstack.aws import handlers

    handlers.serve_custom_service_request_handlers.append(AnonymousS3Guard(public_read_buckets()))

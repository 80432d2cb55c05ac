"""API Gateway's invoke routes are in place before LocalStack accepts its first request.

LocalStack loads a service's provider on the first request for that service (lazy loading), and
API Gateway's provider adds the invoke URL routes (``/restapis/<id>/<stage>/_user_request_/...``,
``/_aws/execute-api/<id>/...``) to the gateway's router only when it loads
(``ApiGatewayProvider.on_after_init``). LocalStack's data-plane loader
(``ServiceLoaderForDataPlane``) loads a service for an invoke URL by its host name only
(``<id>.execute-api.<host>``); the path form, the only one that works here (no DNS upstream),
belongs to no service until the provider has been loaded by some other request. Until then:

- a POST to an invoke URL ran through LocalStack's whole handler chain unanswered and came back
  as the chain's initial response, **HTTP 200 with an empty body** (the chain's last handler,
  ``EmptyResponseHandler``, fills only a response whose status is 0, and LocalStack's starts at 200);
- a GET was taken for an anonymous S3 ``GetObject`` on a bucket named ``restapis`` (403).

After a LocalStack restart that lasted until the deploy's first API Gateway call: measured on the
shared stack, 16.5 s in which every ``POST /orders`` and ``POST /uploads`` was answered 200 with
nothing in it (the chaos suite's ~22 "acknowledged" orders and upload reservations while
LocalStack restarted). A client cannot tell such a 200 from a success.

So API Gateway's provider is loaded while LocalStack starts, before its server listens (an
``on_infra_start`` hook, as ``EAGER_SERVICE_LOADING`` does for every service): from the first
accepted connection an invoke URL meets API Gateway, which serves the API when it is deployed and
otherwise answers its own 404 ``{"message": "The API id '...' does not correspond to a deployed
API Gateway API"}`` (after a restart, until the deploy creates the APIs again, under new ids).
The deploy loads the provider within seconds of a start anyway; this only moves that earlier.
A provider that fails to load stops LocalStack's start with the error, rather than serving
empty 200s.
"""

from __future__ import annotations

import logging

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)
SERVICE = "apigateway"


# After the plugin's other start-up hooks (priority 0), which patch API Gateway's classes.
@hooks.on_infra_start(priority=-10)
def photostack_apigateway_routes() -> None:
    from localstack.services.plugins import SERVICE_PLUGINS
    from localstack.utils.bootstrap import is_api_enabled

    if not is_api_enabled(SERVICE):
        return  # not in SERVICES: LocalStack answers that API Gateway is not enabled
    SERVICE_PLUGINS.require(SERVICE)
    LOG.debug("API Gateway loaded at start-up: its invoke routes serve from the first request")

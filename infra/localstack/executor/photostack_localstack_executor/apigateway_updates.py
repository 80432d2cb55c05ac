"""CloudFormation updates of REST APIs and their stages, which LocalStack's community edition lacks.

Adding or removing a route in template.yaml changes the SAM-generated API three ways: the
``AWS::ApiGateway::RestApi`` gets a new OpenAPI ``Body``, a new ``AWS::ApiGateway::Deployment``
replaces the old one (its logical id carries a hash of the routes), and the
``AWS::ApiGateway::Stage`` moves to that deployment (``DeploymentId``). In LocalStack 2026.3.0
the RestApi and Stage resource providers have no ``update``: the RestApi update is skipped
(the new routes never reach the API) and the Stage update falls back to ``create``, which fails
with "Stage already exists"; the rollback that follows deletes the stage and leaves the stack
reporting ``UPDATE_COMPLETE`` without its outputs. deploy.py used to recover by restarting
LocalStack, which drops every stored object.

The handlers below do what AWS does: re-import the body into the same API (``PutRestApi`` in
overwrite mode, the API id and URL stay), and point the stage at the new deployment
(``UpdateStage``). LocalStack's engine also takes the stage for a replacement (its ``RestApiId``
is a ``!Ref`` of a modified resource, so it counts as a changed create-only property): it
creates the "new" stage, then deletes the old one, which has the same name. So a stage create
that finds the stage already there updates it in place, and a stage delete leaves alone a stage
that no longer serves the deployment the deleted resource had put there (the replacement took
it over); a stack delete still deletes it. Installed at start-up (an ``on_infra_start`` hook).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from localstack.runtime import hooks
from localstack.services.cloudformation.resource_provider import (
    OperationStatus,
    ProgressEvent,
    ResourceRequest,
)

LOG = logging.getLogger(__name__)
Handler = Callable[..., ProgressEvent[Any]]  # a resource provider's create/update/delete
# Stage properties that UpdateStage can change in place, with their patch paths.
STAGE_FIELDS = {"DeploymentId": "/deploymentId", "Description": "/description",
                "TracingEnabled": "/tracingEnabled", "CacheClusterEnabled": "/cacheClusterEnabled"}


def _rest_api_id(request: ResourceRequest[Any]) -> str:
    for state in (request.previous_state, request.desired_state):
        if state and state.get("RestApiId"):
            return str(state["RestApiId"])
    # No previous state (LocalStack's update detection sometimes loses it): the API carries
    # the stack's tags from its creation.
    apigw = request.aws_client_factory.apigateway
    for api in apigw.get_rest_apis(limit=500)["items"]:
        tags = api.get("tags") or {}
        if (tags.get("aws:cloudformation:stack-name") == request.stack_name
                and tags.get("aws:cloudformation:logical-id") == request.logical_resource_id):
            return str(api["id"])
    raise ValueError(f"no REST API found for {request.logical_resource_id} of stack {request.stack_name}")


def update_rest_api(self: Any, request: ResourceRequest[Any]) -> ProgressEvent[Any]:
    model = dict(request.desired_state)
    apigw = request.aws_client_factory.apigateway
    api_id = _rest_api_id(request)
    model["RestApiId"] = api_id
    if (body := model.get("Body")) is not None:
        parameters = dict(model.get("Parameters") or {})
        parameters.setdefault("basepath", "ignore")  # what LocalStack's create uses for CloudFormation
        text = json.dumps(body) if isinstance(body, dict) else str(body)
        apigw.put_rest_api(restApiId=api_id, mode="overwrite", body=text.encode(), parameters=parameters)
    patches = [{"op": "replace", "path": f"/{field[0].lower()}{field[1:]}", "value": str(model[field])}
               for field in ("Name", "Description") if model.get(field)]
    if patches:
        apigw.update_rest_api(restApiId=api_id, patchOperations=patches)
    for resource in apigw.get_resources(restApiId=api_id, limit=500)["items"]:
        if resource["path"] == "/" and not resource.get("parentId"):
            model["RootResourceId"] = resource["id"]
    LOG.info("updated REST API %s (%s) in place", api_id, request.logical_resource_id)
    return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model,
                         custom_context=request.custom_context)


def update_stage(self: Any, request: ResourceRequest[Any]) -> ProgressEvent[Any]:
    model = dict(request.desired_state)
    previous = request.previous_state or {}
    apigw = request.aws_client_factory.apigateway
    api_id, stage = model["RestApiId"], model.get("StageName", "default")
    patches = [{"op": "replace", "path": path, "value": str(model[field]).lower()
                if isinstance(model[field], bool) else str(model[field])}
               for field, path in STAGE_FIELDS.items() if model.get(field) is not None]
    variables = model.get("Variables") or {}
    patches += [{"op": "replace", "path": f"/variables/{key}", "value": str(value)}
                for key, value in variables.items()]
    patches += [{"op": "remove", "path": f"/variables/{key}"}
                for key in (previous.get("Variables") or {}) if key not in variables]
    if patches:
        apigw.update_stage(restApiId=api_id, stageName=stage, patchOperations=patches)
    model["StageName"] = stage
    LOG.info("updated stage %s of REST API %s in place (deployment %s)", stage, api_id,
             model.get("DeploymentId"))
    return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model,
                         custom_context=request.custom_context)


def create_stage_or_take_over(original: Handler) -> Handler:
    def create(self: Any, request: ResourceRequest[Any]) -> ProgressEvent[Any]:
        apigw = request.aws_client_factory.apigateway
        try:
            return original(self, request)
        except apigw.exceptions.ConflictException:
            return update_stage(self, request)  # the replacement of a stage of the same name

    return create


def delete_stage_unless_taken_over(original: Handler) -> Handler:
    def delete(self: Any, request: ResourceRequest[Any]) -> ProgressEvent[Any]:
        model = request.desired_state
        apigw = request.aws_client_factory.apigateway
        try:
            current = apigw.get_stage(restApiId=model["RestApiId"], stageName=model["StageName"])
        except apigw.exceptions.NotFoundException:
            current = {}
        if model.get("DeploymentId") and current.get("deploymentId") not in (None, model["DeploymentId"]):
            LOG.info("stage %s of REST API %s now serves deployment %s: kept", model["StageName"],
                     model["RestApiId"], current.get("deploymentId"))
            return ProgressEvent(status=OperationStatus.SUCCESS, resource_model=model,
                                 custom_context=request.custom_context)
        return original(self, request)

    return delete


@hooks.on_infra_start()
def photostack_apigateway_updates() -> None:
    from localstack.services.apigateway.resource_providers import aws_apigateway_restapi, aws_apigateway_stage

    ApiGatewayRestApiProvider = aws_apigateway_restapi.ApiGatewayRestApiProvider
    ApiGatewayStageProvider = aws_apigateway_stage.ApiGatewayStageProvider

    ApiGatewayRestApiProvider.update = update_rest_api  # type: ignore[method-assign,assignment]
    ApiGatewayStageProvider.update = update_stage  # type: ignore[method-assign,assignment]
    ApiGatewayStageProvider.create = create_stage_or_take_over(ApiGatewayStageProvider.create)  # type: ignore[method-assign]
    ApiGatewayStageProvider.delete = delete_stage_unless_taken_over(ApiGatewayStageProvider.delete)  # type: ignore[method-assign]

"""An execution environment changes hands between invocations without failing one of them.

Two races in LocalStack's Lambda service each fail an invocation that has done nothing wrong, and
API Gateway answers its request with a 502. Both need an environment to pass from one invocation
to the next within microseconds, which the executor makes common: its environments are handles on
pooled processes (pool.py), started in microseconds and invoked in milliseconds, where a container
takes a second to start. A CI run's burst of 20 sign-ins through API Gateway got one such 502.

1. ``AssignmentService.get_environment`` starts an environment when it finds no ready one, lists it
   among the function's environments, then reserves it. In between it is listed and ready: an
   invocation that looks at that moment takes it, and the starter's ``reserve()`` raises
   ``InvalidStatusException``, which nothing handles. Here the new environment is reserved first,
   then listed. LocalStack's own method under stress (16 threads, cheap environments, a 1 µs GIL
   switch interval): 4 and 6 failed invocations in ~4,780 starts; with the change 0 and 0.
2. ``ExecutionEnvironment.release()`` marks the environment ready under its status lock, then, after
   the lock, sets ``self.keepalive_timer`` to a new timer and starts ``self.keepalive_timer``. An
   invocation that reserves and releases the environment in between sets its own timer there, and
   the first release starts that one a second time: ``RuntimeError`` ("threads can only be started
   once" with ``threading.Timer``), raised in the finished invocation's clean-up, so its caller gets
   an error and the environment is stopped under the second invocation. Here the timer is replaced,
   started and (in ``reserve()``) cancelled under the status lock, so each release starts its own.
   (keepalive_timers.py's timer raised the same when a reserve() between the two cancelled it.)

Bursts of 32 on GET /probe/ok through API Gateway, 0.6 s apart, LocalStack with a 10 µs GIL switch
interval (races made likelier) and a 300 ms keepalive (environments started again and again): as
CI ran it, 1 request of 1,280 got a 502 (race 2); with the timer fixed but LocalStack's methods,
2 of 3,200 (race 1, both); with these methods, 0 of 3,200.

The replacements are LocalStack's methods (pinned version, requirements.lock) with these changes
only. ``PHOTOSTACK_LOCALSTACK_HANDOFF=localstack`` keeps LocalStack's (to compare).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

LOG = logging.getLogger(__name__)
HANDOFF_ENV = "PHOTOSTACK_LOCALSTACK_HANDOFF"


def install() -> bool:
    """Replace LocalStack's methods; False when the setting keeps them (or they are replaced)."""
    if os.environ.get(HANDOFF_ENV) == "localstack":
        return False
    from localstack.services.lambda_.invocation.assignment import AssignmentService
    from localstack.services.lambda_.invocation.execution_environment import ExecutionEnvironment

    if getattr(AssignmentService.get_environment, "photostack_handoff", False):
        return False
    for function in (get_environment, release, reserve):
        function.photostack_handoff = True  # type: ignore[attr-defined]
    AssignmentService.get_environment = get_environment  # type: ignore[method-assign,assignment]
    ExecutionEnvironment.release = release  # type: ignore[method-assign]
    ExecutionEnvironment.reserve = reserve  # type: ignore[method-assign]
    return True


@contextlib.contextmanager
def get_environment(self: Any, version_manager_id: str, function_version: Any,
                    provisioning_type: Any) -> Iterator[Any]:
    from localstack.services.lambda_.invocation.assignment import AssignmentException
    from localstack.services.lambda_.invocation.execution_environment import InvalidStatusException
    from localstack.services.lambda_.invocation.lambda_models import InitializationType

    # A snapshot: other invocations add and remove environments while this one looks.
    applicable_envs = [env for env in list(self.environments[version_manager_id].values())
                       if env.initialization_type == provisioning_type]
    execution_environment = None
    for environment in applicable_envs:
        try:
            environment.reserve()
            execution_environment = environment
            break
        except InvalidStatusException:
            pass

    if execution_environment is None:
        if provisioning_type == InitializationType.provisioned_concurrency:
            raise AssignmentException("No provisioned concurrency environment available despite lease.")
        if provisioning_type != InitializationType.on_demand:
            raise ValueError(f"Invalid provisioning type {provisioning_type}")
        with self.on_demand_start_semaphore:
            execution_environment = self.start_environment(version_manager_id, function_version)
        execution_environment.reserve()  # ours before it is listed: the change
        self.environments[version_manager_id][execution_environment.id] = execution_environment

    try:
        yield execution_environment
        execution_environment.release()
    except InvalidStatusException as invalid_e:
        LOG.error("InvalidStatusException: %s", invalid_e)
    except Exception as e:
        LOG.error("Failed invocation <%s>: %s", type(e), e, exc_info=LOG.isEnabledFor(logging.DEBUG))
        if execution_environment.initialization_type == InitializationType.on_demand:
            self.stop_environment(execution_environment)
        else:
            # As LocalStack: a provisioned environment goes back to ready rather than being stopped.
            try:
                execution_environment.release()
            except InvalidStatusException:
                self.stop_environment(execution_environment)
        raise e


def release(self: Any) -> None:
    from localstack import config
    from localstack.services.lambda_.invocation import execution_environment as module
    from localstack.services.lambda_.invocation.lambda_models import InitializationType

    self.last_returned = datetime.now()
    with self.status_lock:
        if self.status != module.RuntimeStatus.INVOKING:
            raise module.InvalidStatusException(
                f"Execution environment {self.id} can only be set to status ready while running."
                f" Current status: {self.status}")
        self.status = module.RuntimeStatus.READY
        if self.initialization_type == InitializationType.on_demand:
            # Under the lock (the change): the next reserve() cancels exactly this timer.
            # module.Timer: keepalive_timers.py may have replaced threading.Timer there.
            self.keepalive_timer = module.Timer(config.LAMBDA_KEEPALIVE_MS / 1000, self.keepalive_passed)
            self.keepalive_timer.start()


def reserve(self: Any) -> None:
    from localstack.services.lambda_.invocation import execution_environment as module

    with self.status_lock:
        if self.status != module.RuntimeStatus.READY:
            raise module.InvalidStatusException(
                f"Execution environment {self.id} can only be reserved if ready. "
                f" Current status: {self.status}")
        self.status = module.RuntimeStatus.INVOKING
        self.keepalive_timer.cancel()  # under the lock (the change): the timer of the last release

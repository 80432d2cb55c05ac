from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class ProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "process"

    def load(self, *args, **kwargs):
        from localstack.services.lambda_.invocation.execution_environment import ExecutionEnvironment

        from photostack_localstack_executor import environment_handoff
        from photostack_localstack_executor.executor import ProcessRuntimeExecutor
        from photostack_localstack_executor.metrics import batch_lambda_metrics
        from photostack_localstack_executor.quiet_logs import log_deprecations_once

        environment_handoff.install()  # LocalStack's races passing an environment between invocations
        batch_lambda_metrics()  # LocalStack's per-invocation AWS/Lambda metrics, batched
        if not getattr(ExecutionEnvironment.get_log_stream_name, "photostack_process_stream", False):
            ExecutionEnvironment.get_log_stream_name = ProcessRuntimeExecutor.log_stream_name(
                ExecutionEnvironment.get_log_stream_name)
        log_deprecations_once()  # not one "_user_request_ is deprecated" line per API request
        return ProcessRuntimeExecutor

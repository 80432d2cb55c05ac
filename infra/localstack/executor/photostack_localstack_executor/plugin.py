from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class ProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "process"

    def load(self, *args, **kwargs):
        from photostack_localstack_executor.executor import ProcessRuntimeExecutor
        from photostack_localstack_executor.metrics import batch_lambda_metrics

        batch_lambda_metrics()  # LocalStack's per-invocation AWS/Lambda metrics, batched
        return ProcessRuntimeExecutor

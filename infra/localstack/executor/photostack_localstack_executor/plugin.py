from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class ProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "process"

    def load(self, *args, **kwargs):
        from photostack_localstack_executor.executor import ProcessRuntimeExecutor

        return ProcessRuntimeExecutor

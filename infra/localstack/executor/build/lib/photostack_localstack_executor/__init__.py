"""Run LocalStack's Lambda execution environments as local processes.

`plugin.py` registers the executor under the name ``process`` in LocalStack's
``localstack.lambda.runtime_executor`` namespace (select it with
``LAMBDA_RUNTIME_EXECUTOR=process``); `executor.py` is the LocalStack side;
`runtime.py` is the part that runs as the function environment itself.
"""

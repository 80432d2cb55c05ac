"""photostack: the shared library shipped as the `photostack` Lambda layer.

It knows nothing of any one domain: configuration, database and cache adapters,
errors mapped to HTTP, token checks, service discovery, gRPC clients and logging.
"""

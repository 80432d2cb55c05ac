"""The photo sidecar: a long-lived gRPC service that owns events and photos.

Run it with ``python -m sidecar --port 50051``. It keeps a warm Postgres pool
(schema ``photos``) and a Redis read-through cache, serves
``photostack.photo.v1.PhotoService`` with the standard health and reflection
services, and registers itself in Consul as ``photo-sidecar``.
"""

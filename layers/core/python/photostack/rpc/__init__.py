"""gRPC plumbing for any service found through Consul (clients of one service build on ServiceClient)."""

from photostack.rpc.channels import reset_channels
from photostack.rpc.client import ServiceClient
from photostack.rpc.status import to_api_error

__all__ = ["ServiceClient", "reset_channels", "to_api_error"]

"""gRPC clients of the photostack services (the stubs are generated under ``photostack.photo``)."""

from photostack.rpc.channels import reset_channels
from photostack.rpc.photo_client import PhotoClient, get_photo_client, reset_photo_client
from photostack.rpc.status import to_api_error

__all__ = ["PhotoClient", "get_photo_client", "reset_channels", "reset_photo_client", "to_api_error"]

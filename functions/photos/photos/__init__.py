"""The photos API function: events, photos and uploads, over the photo sidecar."""

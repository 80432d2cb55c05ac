# Single-node dev agent for photostack, loopback only.
node_name = "photostack-dev"
log_level = "WARN"
ui_config { enabled = true }

# Nothing without a token: services, the catalog, KV, intentions. The management and agent
# tokens are generated on first start into .state/consul/acl.hcl (infra/consul/acl.py init),
# never committed; the per-service tokens and policies are applied by `acl.py apply`.
acl {
  enabled = true
  default_policy = "deny"
  down_policy = "extend-cache"
}

# Consul Connect's built-in CA signs each service's leaf certificate (mTLS between the
# functions and the photo sidecar, Connect-native: no proxy).
connect {
  enabled = true
}

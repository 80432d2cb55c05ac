# Single-node dev agent for photostack, loopback only.
node_name = "photostack-dev"
log_level = "WARN"
ui_config { enabled = true }

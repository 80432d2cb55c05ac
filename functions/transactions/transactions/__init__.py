"""The transactions domain: wallets, top-ups, orders, entitlements and a double-entry ledger."""

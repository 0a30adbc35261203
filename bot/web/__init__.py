"""The chat page, the HTTP API and the embeddable widget: `policybot serve`."""

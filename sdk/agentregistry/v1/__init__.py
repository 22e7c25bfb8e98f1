"""Generated wire layer of the agentregistry.v1 contract (see protos/). Regenerate with `make proto`."""

"""The gRPC face of the registry: validate, translate proto <-> core, map errors. Nothing else."""

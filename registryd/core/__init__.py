"""The registry as a pure asyncio state machine. Imports neither grpc nor protobuf."""

"""GX gRPC service processes and the runtime they share (`services.common`)."""

"""The writer: container-aware loggers, flow tracing and domain events that write the log tree."""

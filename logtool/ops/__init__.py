"""Operations: the log manager, configuration, routing to backends and monitoring."""

"""The one exception type for mistakes a user can fix by changing a value."""


class ConfigError(ValueError):
    """A bad value a user set; the entry points print its one-sentence message and exit non-zero."""

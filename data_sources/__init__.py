"""Upstream data sources, the normaliser and the typed errors of the data boundary."""


class SourceError(Exception):
    """Base of the typed errors raised at the data boundary."""


class SourceUnavailable(SourceError):
    """The upstream could not be reached or answered with an error."""


class SourceFormatError(SourceError):
    """The upstream answered, but with a payload we cannot read."""

"""Errors policybot raises; the command line and the HTTP API turn them into messages at their edges."""


class PolicybotError(Exception):
    """Base class: the message says what was wrong and what to do next."""


class BadQuestion(PolicybotError, ValueError):
    """The question is empty, too long or not text."""


class CorpusError(PolicybotError):
    """A corpus folder or file cannot be used at all."""


class IndexMissing(PolicybotError):
    """There is no index yet in the data directory."""


class IndexBusy(PolicybotError):
    """Another indexer holds the lock on this data directory."""


class StoreUnavailable(PolicybotError):
    """The vector store (embedded or a Chroma server) cannot be reached or opened."""


class UnverifiedExcerpt(PolicybotError):
    """An excerpt is not verbatim in the stored document version it claims to come from."""

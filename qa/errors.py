"""One family of errors whose message is fit to show a user as it is.

The CLI prints these as one line and the API maps them to its error shape;
anything else escaping is a bug.
"""


class WenyuanError(Exception):
    """An error caused by input or environment, with a message that says what to do."""

    code = "error"


class CorpusError(WenyuanError):
    code = "corpus_error"


class IndexMissingError(WenyuanError):
    code = "index_missing"


class EmbeddingUnavailable(WenyuanError):
    """The embedding server cannot embed now (unreachable, failing, refusing us): the API answers 503, not 500."""

    code = "embedding_unavailable"


class InputError(WenyuanError):
    code = "invalid_input"


class DocumentWriteError(WenyuanError):
    """A document write that did not happen, and nothing was changed; ``code`` says why.

    Raised by the corpus and index work of a write (qa.index.document_writes); the
    API's error table (qa.api.error_status) decides the HTTP status for each code.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ApiError(WenyuanError):
    """An HTTP answer other than 200, in the API's one error shape."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers

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


class InputError(WenyuanError):
    code = "invalid_input"

"""The one exception ingest steps raise for input they cannot use."""


class InputRejected(ValueError):
    """The input cannot be used; ``reason`` is the reject code, ``detail`` the message."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

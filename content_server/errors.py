"""Exceptions raised by the content server, each mapped to one HTTP status.

    ContentServerError              (500) base; ``title`` and ``status`` say how it is shown
    ├── NotFoundError               (404) a site, device, asset or manifest does not exist
    ├── ConflictError               (409) it exists already, or the data folder is in use
    ├── InvalidInputError           (422) a request or a command line that cannot be used
    ├── AuthenticationError         (401) no credentials, or wrong ones
    ├── ForbiddenError              (403) valid credentials, but not for this
    ├── ImportFailedError           (422) YAML to import has errors; ``problems`` lists them
    ├── PublishRefusedError         (422) a playlist lacks languages or glyphs; ``problems``
    ├── PayloadTooLargeError        (413) an upload over the size limit
    ├── UnsupportedMediaError       (415) an upload that is not media we play, or is broken
    │   ├── MediaTooLargeError      (413) its header declares more pixels than we decode
    │   └── MediaLimitError         (422) decoding it needed more memory or time than allowed
    ├── TooManyRequestsError        (429) sign-in throttled; ``retry_after`` seconds
    ├── NotInitialisedError         (500) the data folder has no database or key yet
    └── RangeNotSatisfiableError    (416) a byte range outside the asset

The HTTP mapping lives in ``problems.py``; the command line prints ``str(error)``.
Every message is written for the border guard or technician who has to act on it.
"""

from __future__ import annotations

from collections.abc import Sequence


class ContentServerError(Exception):
    status = 500
    title = "Content server error"
    code = "error"


class NotFoundError(ContentServerError):
    status = 404
    title = "Not found"
    code = "not-found"


class ConflictError(ContentServerError):
    status = 409
    title = "Conflict"
    code = "conflict"


class InvalidInputError(ContentServerError):
    status = 422
    title = "Invalid input"
    code = "invalid-input"


class AuthenticationError(ContentServerError):
    status = 401
    title = "Not authenticated"
    code = "not-authenticated"

    def __init__(self, message: str, *, invalid_token: bool = False) -> None:
        super().__init__(message)
        self.invalid_token = invalid_token


class ForbiddenError(ContentServerError):
    status = 403
    title = "Forbidden"
    code = "forbidden"


class NotInitialisedError(ContentServerError):
    title = "Data folder not initialised"
    code = "not-initialised"


class RangeNotSatisfiableError(ContentServerError):
    status = 416
    title = "Range not satisfiable"
    code = "range-not-satisfiable"

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


class ImportFailedError(ContentServerError):
    """Nothing was imported; ``problems`` holds one ``path:line: reason`` line per error."""

    status = 422
    title = "Import failed"
    code = "import-failed"

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(f"{len(problems)} error(s); nothing was imported")
        self.problems = list(problems)


class PublishRefusedError(ContentServerError):
    """Nothing was published; ``problems`` holds one line per item, language and reason."""

    status = 422
    title = "Publish refused"
    code = "publish-refused"

    def __init__(self, message: str, problems: Sequence[str]) -> None:
        super().__init__(message)
        self.problems = list(problems)


class PayloadTooLargeError(ContentServerError):
    status = 413
    title = "File too large"
    code = "too-large"


class UnsupportedMediaError(ContentServerError):
    status = 415
    title = "Unsupported media"
    code = "unsupported-media"


class MediaTooLargeError(UnsupportedMediaError):
    status = 413
    title = "Picture too large"
    code = "media-too-large"


class MediaLimitError(UnsupportedMediaError):
    status = 422
    title = "Media too costly to decode"
    code = "media-limit"


class TooManyRequestsError(ContentServerError):
    status = 429
    title = "Too many attempts"
    code = "too-many-requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

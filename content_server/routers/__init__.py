"""One router per resource of ``/api/v1``; ``health`` sits outside the API prefix."""

API_PREFIX = "/api/v1"

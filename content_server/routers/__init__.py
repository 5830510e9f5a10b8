"""One router per resource of ``/api/v1``; ``health`` sits outside the API prefix."""

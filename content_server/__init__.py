"""The content server: where border guards manage what the screens at their gate show."""

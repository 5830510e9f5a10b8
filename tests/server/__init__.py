"""Tests of the content server (content_server)."""

"""Tests; folders mirror the product parts (server, device, player, core, fleet, e2e)."""

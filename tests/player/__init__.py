"""Tests of the Kivy signage player (signage_player)."""

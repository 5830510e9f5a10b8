"""Pure domain of the border-gate signage system.

Decides, never does: no network, no disk, no clock reads, no UI. Time is always an
argument. The content server and the device runtime do the I/O around it.
"""

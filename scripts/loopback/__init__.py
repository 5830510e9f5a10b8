"""The whole system on loopback, for ``make demo`` and the end-to-end tests.

ports.py   a free loopback port, waiting for one to listen, where Mosquitto is
stack.py   Mosquitto, the content server and devices as separate processes,
           set up only with the commands an operator uses
xvfb.py    a real X display (Xvfb) for the Kivy player
"""

"""Touch kiosk for travellers in the gate halls (issue 10).

``kiosk-app --config FILE`` browses the signed kiosk pages of the device's site
(home → category → page) in the traveller's language, and plays the site's
signage full screen when nobody has touched it for a while (the attract loop).

Only ``app``, ``screens`` and ``main`` (when it opens a window) import
Kivy; ``config``, ``presenter``, ``strings`` and ``qr`` do not.
"""

__version__ = "0.1.0"

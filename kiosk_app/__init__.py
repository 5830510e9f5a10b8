"""Touch kiosk for travellers in the gate halls (issue 10)."""

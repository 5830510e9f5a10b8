#!/usr/bin/env bash
# Install the Debian packages the project needs, only those that are missing.
# Safe to run again: with everything present it does nothing and needs no network.
set -euo pipefail

packages=(
  mosquitto mosquitto-clients          # the MQTT broker and its CLI clients
  xvfb xauth libgl1-mesa-dri libmtdev1 # a real X display for the Kivy apps in tests/demo
  fonts-noto-core                      # Noto Sans Lao (we also ship copies in assets/fonts)
  ffmpeg                               # makes H.264 test clips
  faketime                             # make test's pass with the clock years ahead
  nginx-light                          # the gate relay (content-server relay-config) and its tests
  x11-xserver-utils                    # xset: the kiosk session turns screen blanking off
  xdotool                              # taps on the kiosk under Xvfb in tests
  chromium                             # the web admin's browser tests (Playwright drives it)
)
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  packages+=(python3-venv)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null; then
  SUDO="sudo"
else
  echo "error: these Debian packages are missing and I am neither root nor have sudo: ${missing[*]}" >&2
  echo "       ask an administrator to run: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# The broker is started by our own scripts with our own config; a system-wide
# instance on port 1883 is not needed by the tests or the demo.

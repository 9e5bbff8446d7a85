"""Where Playwright finds Debian's Chromium, and the phone the caregiver pages are checked on."""

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}

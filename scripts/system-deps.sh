#!/usr/bin/env bash
# Installs the Debian packages CareStar needs, when they are missing. Root installs; anyone else is told what to run.
set -euo pipefail

packages=(
  libpango-1.0-0 libpangoft2-1.0-0   # WeasyPrint's text layout
  libharfbuzz-subset0                 # fast font subsetting: ~0.1 s instead of ~10 s per Chinese page
  fonts-noto-cjk fontconfig           # the CJK font certificates are set in
  fonts-hanazono fonts-babelstone-han # glyphs for rare characters (all of CJK Extensions A and B)
  gettext                             # compiles the translations
  redis-server                        # the embedded broker `make run` starts under var/broker/
  chromium                            # the browser test of the exam page (Playwright drives it, nothing downloaded)
  poppler-utils mupdf-tools           # the certificate test renders PDFs as poppler and MuPDF do,
  ghostscript                         # and as Ghostscript does (what CUPS prints with)
  softhsm2                            # a PKCS#11 token for the test of signing with a key held on one
  ${EXTRA_PACKAGES:-}
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "CareStar needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Installs the Debian packages a target needs, and only those that are missing.
# Usage: scripts/deps.sh build|test|bench|lint ...   (quiet when everything is there)
set -euo pipefail

build=(g++ make cmake pkg-config librestinio-dev libasio-dev libhttp-parser-dev libfmt-dev
  nlohmann-json3-dev libsoci-dev libsqlite3-dev libmariadb-dev libsodium-dev libcrypt-dev
  libjwt-dev libcurl4-openssl-dev libspdlog-dev libcli11-dev
  libboost-dev  # SOCI 4.0.3 headers include Boost.Fusion (SOCI_HAVE_BOOST)
  john-data  # Openwall common-password list read by the password policy at start-up
  libkainjow-mustache-dev  # email templates
  libssl-dev  # Web Push: RFC 8291 ECDH/HKDF/AES-128-GCM and RFC 8292 ES256 through OpenSSL 3 EVP
  ca-certificates  # verifying the SMTP server certificate (STARTTLS, smtps)
  liboath-dev)  # RFC 6238 TOTP codes for two-factor sign-in
test=(libgtest-dev libgmock-dev mariadb-server mariadb-client python3 python3-aiosmtpd curl
  oathtool  # TOTP codes computed independently of our code in the two-factor tests
  python3-cryptography  # the test push service verifies VAPID and decrypts aes128gcm independently of our code
  galera-4 rsync  # the cluster tests and `make cluster`: three Galera nodes, state transfer by rsync (SST)
  haproxy  # the balancer in front of the instances in the cluster tests and `make cluster`
  # The TypeScript client's tests (clients/typescript, `ctest -L client`: npm ci, tsc, node --test)
  # and tools/openapi (`ctest -L conformance`: the OpenAPI conformance checker and Redocly lint).
  # Redocly needs node >= 20.19 (Debian 12's nodejs is 18: install a newer node first, kept below).
  nodejs npm
  chromium)  # the client's cross-origin cookie-mode test in a real browser (headless, driven by playwright-core)
bench=(wrk curl jq nodejs npm mariadb-server mariadb-client python3)
lint=(clang-format clang-tidy)

wanted=()
for group in "$@"; do
  case "$group" in
    build) wanted+=("${build[@]}") ;;
    test) wanted+=("${build[@]}" "${test[@]}") ;;
    bench) wanted+=("${build[@]}" "${bench[@]}") ;;
    lint) wanted+=("${build[@]}" "${lint[@]}") ;;
    *) echo "deps.sh: unknown group '$group' (build, test, bench, lint)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${wanted[@]}"; do
  # node and npm may come from outside Debian (a machine image); a working command is enough.
  case "$pkg" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# Deduplicate, keep order.
readarray -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
echo "deps.sh: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

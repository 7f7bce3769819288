// Defaults, parsing and validation of every setting; the only place that knows variable names.
#include "config/config.hpp"

#include "core/text.hpp"
#include "push/vapid_key.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <sstream>

namespace ikigai::config {
namespace {

using core::ErrorCode;

core::Error Bad(const std::string& var, const std::string& why) {
  return core::Error{ErrorCode::kValidation, var + ": " + why, {}, std::nullopt};
}

template <class T>
std::optional<T> ParseUnsigned(const std::string& s) {
  T v{};
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

std::optional<bool> ParseBool(const std::string& s) {
  std::string l = s;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  if (l == "true" || l == "1" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "0" || l == "no" || l == "off") return false;
  return std::nullopt;
}

const std::map<std::string, RateLimit>& DefaultRateLimits() {
  static const std::map<std::string, RateLimit> kDefaults = {
      {"login_account", {10, std::chrono::minutes{15}}},
      {"login_address", {100, std::chrono::minutes{15}}},
      {"register_address", {20, std::chrono::hours{1}}},
      {"forgot_account", {3, std::chrono::hours{1}}},
      {"feedback_user", {20, std::chrono::hours{1}}},
      // Mails a signed-in account can aim at an address it has not proved: verification resends,
      // and email changes (each mails a link to the new address), so neither can bomb a mailbox.
      {"verify_account", {3, std::chrono::hours{1}}},
      {"email_change_account", {3, std::chrono::hours{1}}},
      // The data export reads everything a user has: a few a day is plenty.
      {"export_user", {3, std::chrono::hours{1}}},
  };
  return kDefaults;
}

}  // namespace

bool Cidr::Contains(const std::vector<std::uint8_t>& ip) const {
  if (ip.size() != address.size()) return false;
  int bits = prefix_length;
  for (std::size_t i = 0; i < ip.size() && bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((ip[i] & mask) != (address[i] & mask)) return false;
  }
  return true;
}

std::optional<std::vector<std::uint8_t>> ParseIp(const std::string& text) {
  std::vector<std::uint8_t> v4(4), v6(16);
  if (inet_pton(AF_INET, text.c_str(), v4.data()) == 1) return v4;
  if (inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address.
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6.data(), kMapped, 12) == 0) return std::vector<std::uint8_t>(v6.begin() + 12, v6.end());
    return v6;
  }
  return std::nullopt;
}

std::optional<Listen> ParseListen(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  const auto p = ParseUnsigned<std::uint16_t>(port);
  if (!p || host.empty()) return std::nullopt;
  if (host != "localhost" && !ParseIp(host)) return std::nullopt;
  return Listen{host == "localhost" ? "127.0.0.1" : host, *p};
}

std::optional<std::chrono::seconds> ParseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::int64_t unit = 1;
  std::string number = text;
  switch (text.back()) {
    case 's': unit = 1; number.pop_back(); break;
    case 'm': unit = 60; number.pop_back(); break;
    case 'h': unit = 3600; number.pop_back(); break;
    case 'd': unit = 86400; number.pop_back(); break;
    default: break;
  }
  const auto n = ParseUnsigned<std::int64_t>(number);
  if (!n || *n <= 0 || *n > 100LL * 365 * 86400 / unit) return std::nullopt;
  return std::chrono::seconds{*n * unit};
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {"IKIGAI_ENV", "--env", "development", "development or production"},
      {"IKIGAI_LISTEN", "--listen", "127.0.0.1:8080", "address and port to serve on (port 0: any free port)"},
      {"IKIGAI_DATA_DIR", "--data-dir", "./data", "folder for the SQLite file, the development JWT secret and development mail"},
      {"IKIGAI_DATABASE_URL", "--database-url", nullptr, "sqlite://PATH or mysql://USER:PASS@HOST:PORT/DB (default sqlite://DATA_DIR/ikigai.db)"},
      {"IKIGAI_JWT_SECRET", "--jwt-secret", nullptr, "HS256 secret(s), comma separated: the first signs, all verify (>= 32 bytes each)"},
      {"IKIGAI_JWT_ISSUER", "--jwt-issuer", "ikigai", "iss claim"},
      {"IKIGAI_JWT_AUDIENCE", "--jwt-audience", "ikigai", "aud claim"},
      {"IKIGAI_PUBLIC_URL", "--public-url", "http://localhost:3000", "frontend base URL for links in emails"},
      {"IKIGAI_SMTP_URL", "--smtp-url", nullptr, "smtp://user:pass@host:port or smtps://...; unset: mail written to DATA_DIR/mail"},
      {"IKIGAI_MAIL_FROM", "--mail-from", "Ikigai <no-reply@localhost>", "From: of emails"},
      {"IKIGAI_CORS_ORIGINS", "--cors-origins", "", "comma-separated exact origins allowed by CORS (development also allows http://localhost:* and http://127.0.0.1:*)"},
      {"IKIGAI_ARGON2_MEMORY_KIB", "--argon2-memory-kib", "19456", "Argon2id memory in KiB"},
      {"IKIGAI_ARGON2_OPS", "--argon2-ops", "2", "Argon2id passes"},
      {"IKIGAI_ACCESS_TTL", "--access-ttl", "900", "access token lifetime (seconds, or 15m, 1h, 30d)"},
      {"IKIGAI_REFRESH_TTL", "--refresh-ttl", "30d", "refresh token (session) lifetime"},
      {"IKIGAI_TRUSTED_PROXIES", "--trusted-proxies", "", "comma-separated CIDR blocks whose X-Forwarded-For is believed"},
      {"IKIGAI_LOG_FORMAT", "--log-format", "text", "text or json"},
      {"IKIGAI_LOG_LEVEL", "--log-level", "info", "debug, info, warn or error"},
      {"IKIGAI_MAX_BODY_BYTES", "--max-body-bytes", "65536", "largest request body accepted"},
      {"IKIGAI_REQUIRE_VERIFIED_EMAIL", "--require-verified-email", "false", "refuse login to unverified accounts"},
      {"IKIGAI_JOBS_INTERVAL", "--jobs-interval", "30", "how often background jobs look for work"},
      {"IKIGAI_MAIL_RETRY_MIN", "--mail-retry-min", "60", "first retry delay of an email that could not be sent (doubles up to 1 h)"},
      {"IKIGAI_ACTIVITY_RETENTION_DAYS", "--activity-retention-days", "365", "days of activity kept"},
      {"IKIGAI_RATE_LIMITS", "--rate-limits", "", "overrides, e.g. login_account=10/15m,verify_account=3/1h; off disables"},
      {"IKIGAI_IO_THREADS", "--io-threads", "2", "HTTP I/O threads"},
      {"IKIGAI_MAX_CONNECTIONS", "--max-connections", "9000", "open connections before the server stops accepting until one closes"},
      {"IKIGAI_MAX_STREAMS", "--max-streams", "10000", "open notification streams before new ones get 503"},
      {"IKIGAI_WORKERS", "--workers", "4", "database worker threads (more than twice the cores only adds context switches)"},
      {"IKIGAI_HASH_THREADS", "--hash-threads", "2", "password hashing threads"},
      {"IKIGAI_QUEUE_LIMIT", "--queue-limit", "1024", "queued requests per pool before 503"},
      {"IKIGAI_DB_POOL_SIZE", "--db-pool-size", "0", "database connections (0: workers + 2)"},
      {"IKIGAI_SQLITE_SYNCHRONOUS", "--sqlite-synchronous", "FULL", "SQLite synchronous pragma: FULL or NORMAL"},
      {"IKIGAI_VAPID_PRIVATE_KEY", "--vapid-private-key", nullptr, "Web Push VAPID P-256 private key: PEM or base64url of the 32-byte scalar (development: generated into DATA_DIR)"},
      {"IKIGAI_VAPID_SUBJECT", "--vapid-subject", nullptr, "VAPID sub claim, mailto: or https: (default mailto: + the address of IKIGAI_MAIL_FROM)"},
      {"IKIGAI_PUSH_ALLOW_HTTP", "--push-allow-http", "false", "accept http:// push subscription endpoints (test machines only)"},
      {"IKIGAI_PUSH_RETRY_MIN", "--push-retry-min", "30", "first retry delay of a push that failed (doubles, with jitter, up to 1 h; given up after 24 h)"},
      {"IKIGAI_PUSH_TIMEOUT", "--push-timeout", "10", "time limit of one request to a push service"},
      {"IKIGAI_PUSH_PARALLEL", "--push-parallel", "8", "requests to push services in flight per instance"},
  };
  return kSettings;
}

core::Result<Config> FromValues(const std::map<std::string, std::string>& values) {
  std::map<std::string, std::string> v;
  for (const auto& s : Settings()) {
    if (s.default_value != nullptr) v[s.env] = s.default_value;
  }
  for (const auto& [name, value] : values) v[name] = value;
  auto get = [&](const char* name) -> std::string {
    auto it = v.find(name);
    return it == v.end() ? std::string{} : it->second;
  };

  Config c;
  const std::string env = get("IKIGAI_ENV");
  if (env == "development") c.env = Environment::kDevelopment;
  else if (env == "production") c.env = Environment::kProduction;
  else return core::Fail(Bad("IKIGAI_ENV", "must be development or production"));

  auto listen = ParseListen(get("IKIGAI_LISTEN"));
  if (!listen) return core::Fail(Bad("IKIGAI_LISTEN", "must be HOST:PORT with an IP address"));
  c.listen = *listen;

  c.data_dir = get("IKIGAI_DATA_DIR");
  if (c.data_dir.empty()) return core::Fail(Bad("IKIGAI_DATA_DIR", "must not be empty"));
  c.database_url = get("IKIGAI_DATABASE_URL");
  if (c.database_url.empty()) c.database_url = "sqlite://" + c.data_dir + "/ikigai.db";
  if (c.database_url.rfind("sqlite://", 0) != 0 && c.database_url.rfind("mysql://", 0) != 0 &&
      c.database_url.rfind("mariadb://", 0) != 0) {
    return core::Fail(Bad("IKIGAI_DATABASE_URL", "must start with sqlite:// or mysql://"));
  }

  c.jwt_secrets = SplitList(get("IKIGAI_JWT_SECRET"));
  for (const auto& s : c.jwt_secrets) {
    if (s.size() < 32) return core::Fail(Bad("IKIGAI_JWT_SECRET", "each secret must be at least 32 bytes"));
  }
  if (c.env == Environment::kProduction && c.jwt_secrets.empty()) {
    return core::Fail(Bad("IKIGAI_JWT_SECRET", "is required when IKIGAI_ENV=production"));
  }
  c.jwt_issuer = get("IKIGAI_JWT_ISSUER");
  c.jwt_audience = get("IKIGAI_JWT_AUDIENCE");
  if (c.jwt_issuer.empty()) return core::Fail(Bad("IKIGAI_JWT_ISSUER", "must not be empty"));
  if (c.jwt_audience.empty()) return core::Fail(Bad("IKIGAI_JWT_AUDIENCE", "must not be empty"));

  c.public_url = get("IKIGAI_PUBLIC_URL");
  while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  if (c.public_url.rfind("http://", 0) != 0 && c.public_url.rfind("https://", 0) != 0) {
    return core::Fail(Bad("IKIGAI_PUBLIC_URL", "must be an http:// or https:// URL"));
  }
  c.smtp_url = get("IKIGAI_SMTP_URL");
  if (!c.smtp_url.empty() && c.smtp_url.rfind("smtp://", 0) != 0 && c.smtp_url.rfind("smtps://", 0) != 0) {
    return core::Fail(Bad("IKIGAI_SMTP_URL", "must start with smtp:// or smtps://"));
  }
  if (c.env == Environment::kProduction && c.smtp_url.empty()) {
    return core::Fail(Bad("IKIGAI_SMTP_URL", "is required when IKIGAI_ENV=production"));
  }
  c.mail_from = get("IKIGAI_MAIL_FROM");
  if (c.mail_from.find('@') == std::string::npos || c.mail_from.find_first_of("\r\n") != std::string::npos) {
    return core::Fail(Bad("IKIGAI_MAIL_FROM", "must be an email address, optionally with a name"));
  }
  c.cors_origins = SplitList(get("IKIGAI_CORS_ORIGINS"));
  for (const auto& o : c.cors_origins) {
    if ((o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0) || o.back() == '/') {
      return core::Fail(Bad("IKIGAI_CORS_ORIGINS", "each origin must be scheme://host[:port] without a path"));
    }
  }

  auto mem = ParseUnsigned<std::uint32_t>(get("IKIGAI_ARGON2_MEMORY_KIB"));
  if (!mem || *mem < 8 || *mem > 4u * 1024 * 1024) {
    return core::Fail(Bad("IKIGAI_ARGON2_MEMORY_KIB", "must be a whole number of KiB from 8 to 4194304"));
  }
  c.argon2_memory_kib = *mem;
  auto ops = ParseUnsigned<std::uint32_t>(get("IKIGAI_ARGON2_OPS"));
  if (!ops || *ops < 1 || *ops > 20) return core::Fail(Bad("IKIGAI_ARGON2_OPS", "must be 1 to 20"));
  c.argon2_ops = *ops;

  auto access = ParseDuration(get("IKIGAI_ACCESS_TTL"));
  if (!access) return core::Fail(Bad("IKIGAI_ACCESS_TTL", "must be a positive duration"));
  c.access_ttl = *access;
  auto refresh = ParseDuration(get("IKIGAI_REFRESH_TTL"));
  if (!refresh) return core::Fail(Bad("IKIGAI_REFRESH_TTL", "must be a positive duration"));
  c.refresh_ttl = *refresh;

  for (const auto& item : SplitList(get("IKIGAI_TRUSTED_PROXIES"))) {
    const auto slash = item.find('/');
    auto ip = ParseIp(item.substr(0, slash));
    if (!ip) return core::Fail(Bad("IKIGAI_TRUSTED_PROXIES", "'" + item + "' is not an IP address or CIDR block"));
    int max_bits = static_cast<int>(ip->size() * 8);
    int bits = max_bits;
    if (slash != std::string::npos) {
      auto b = ParseUnsigned<int>(item.substr(slash + 1));
      if (!b || *b > max_bits) return core::Fail(Bad("IKIGAI_TRUSTED_PROXIES", "'" + item + "' has a bad prefix length"));
      bits = *b;
    }
    c.trusted_proxies.push_back(Cidr{*ip, bits});
  }

  const std::string fmt = get("IKIGAI_LOG_FORMAT");
  if (fmt == "text") c.log_format = LogFormat::kText;
  else if (fmt == "json") c.log_format = LogFormat::kJson;
  else return core::Fail(Bad("IKIGAI_LOG_FORMAT", "must be text or json"));
  c.log_level = get("IKIGAI_LOG_LEVEL");
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error") {
    return core::Fail(Bad("IKIGAI_LOG_LEVEL", "must be debug, info, warn or error"));
  }

  auto body = ParseUnsigned<std::size_t>(get("IKIGAI_MAX_BODY_BYTES"));
  if (!body || *body < 1024 || *body > 64u * 1024 * 1024) {
    return core::Fail(Bad("IKIGAI_MAX_BODY_BYTES", "must be a whole number of bytes from 1024 to 67108864"));
  }
  c.max_body_bytes = *body;
  auto verified = ParseBool(get("IKIGAI_REQUIRE_VERIFIED_EMAIL"));
  if (!verified) return core::Fail(Bad("IKIGAI_REQUIRE_VERIFIED_EMAIL", "must be true or false"));
  c.require_verified_email = *verified;
  auto jobs = ParseDuration(get("IKIGAI_JOBS_INTERVAL"));
  if (!jobs) return core::Fail(Bad("IKIGAI_JOBS_INTERVAL", "must be a positive duration"));
  c.jobs_interval = *jobs;
  auto retry = ParseDuration(get("IKIGAI_MAIL_RETRY_MIN"));
  if (!retry || *retry > std::chrono::hours(1)) return core::Fail(Bad("IKIGAI_MAIL_RETRY_MIN", "must be a positive duration of at most 1h"));
  c.mail_retry_min = *retry;
  auto retention = ParseUnsigned<int>(get("IKIGAI_ACTIVITY_RETENTION_DAYS"));
  if (!retention || *retention < 1) return core::Fail(Bad("IKIGAI_ACTIVITY_RETENTION_DAYS", "must be a positive number of days"));
  c.activity_retention = std::chrono::days{*retention};

  c.rate_limits = DefaultRateLimits();
  const std::string limits = get("IKIGAI_RATE_LIMITS");
  if (limits == "off") {
    c.rate_limits_enabled = false;
  } else {
    for (const auto& item : SplitList(limits)) {
      const auto eq = item.find('=');
      const auto slash = item.find('/');
      const std::string name = item.substr(0, eq);
      if (eq == std::string::npos || slash == std::string::npos || slash < eq || !DefaultRateLimits().contains(name)) {
        return core::Fail(Bad("IKIGAI_RATE_LIMITS", "'" + item + "' must be NAME=COUNT/WINDOW with a known NAME"));
      }
      auto count = ParseUnsigned<int>(item.substr(eq + 1, slash - eq - 1));
      auto window = ParseDuration(item.substr(slash + 1));
      if (!count || *count < 1 || !window) {
        return core::Fail(Bad("IKIGAI_RATE_LIMITS", "'" + item + "' must be NAME=COUNT/WINDOW, e.g. login_account=10/15m"));
      }
      c.rate_limits[name] = RateLimit{*count, *window};
    }
  }

  auto uint_in = [&](const char* name, unsigned lo, unsigned hi, unsigned& out) -> bool {
    auto n = ParseUnsigned<unsigned>(get(name));
    if (!n || *n < lo || *n > hi) return false;
    out = *n;
    return true;
  };
  if (!uint_in("IKIGAI_IO_THREADS", 1, 64, c.io_threads)) return core::Fail(Bad("IKIGAI_IO_THREADS", "must be 1 to 64"));
  unsigned max_connections = 0;
  if (!uint_in("IKIGAI_MAX_CONNECTIONS", 1, 1000000, max_connections)) {
    return core::Fail(Bad("IKIGAI_MAX_CONNECTIONS", "must be 1 to 1000000"));
  }
  c.max_connections = max_connections;
  unsigned max_streams = 0;
  if (!uint_in("IKIGAI_MAX_STREAMS", 1, 1000000, max_streams)) {
    return core::Fail(Bad("IKIGAI_MAX_STREAMS", "must be 1 to 1000000"));
  }
  c.max_streams = max_streams;
  if (!uint_in("IKIGAI_WORKERS", 1, 256, c.workers)) return core::Fail(Bad("IKIGAI_WORKERS", "must be 1 to 256"));
  if (!uint_in("IKIGAI_HASH_THREADS", 1, 64, c.hash_threads)) return core::Fail(Bad("IKIGAI_HASH_THREADS", "must be 1 to 64"));
  unsigned queue = 0;
  if (!uint_in("IKIGAI_QUEUE_LIMIT", 1, 1000000, queue)) return core::Fail(Bad("IKIGAI_QUEUE_LIMIT", "must be 1 to 1000000"));
  c.queue_limit = queue;
  if (!uint_in("IKIGAI_DB_POOL_SIZE", 0, 1024, c.db_pool_size)) return core::Fail(Bad("IKIGAI_DB_POOL_SIZE", "must be 0 to 1024"));
  if (c.db_pool_size == 0) c.db_pool_size = c.workers + 2;

  c.vapid_private_key = get("IKIGAI_VAPID_PRIVATE_KEY");
  if (!c.vapid_private_key.empty() && !push::ParseVapidPrivateKey(c.vapid_private_key)) {
    return core::Fail(Bad("IKIGAI_VAPID_PRIVATE_KEY", "must be a P-256 private key: PEM, or base64url of the 32-byte scalar"));
  }
  if (c.env == Environment::kProduction && c.vapid_private_key.empty()) {
    return core::Fail(Bad("IKIGAI_VAPID_PRIVATE_KEY", "is required when IKIGAI_ENV=production"));
  }
  c.vapid_subject = get("IKIGAI_VAPID_SUBJECT");
  if (c.vapid_subject.empty()) c.vapid_subject = "mailto:" + core::MailboxAddress(c.mail_from);
  if ((c.vapid_subject.rfind("mailto:", 0) != 0 && c.vapid_subject.rfind("https://", 0) != 0) ||
      c.vapid_subject.size() > 512 || c.vapid_subject.find_first_of("\r\n\"\\") != std::string::npos) {
    return core::Fail(Bad("IKIGAI_VAPID_SUBJECT", "must be a mailto: or https: URI"));
  }
  auto allow_http = ParseBool(get("IKIGAI_PUSH_ALLOW_HTTP"));
  if (!allow_http) return core::Fail(Bad("IKIGAI_PUSH_ALLOW_HTTP", "must be true or false"));
  c.push_allow_http = *allow_http;
  auto push_retry = ParseDuration(get("IKIGAI_PUSH_RETRY_MIN"));
  if (!push_retry || *push_retry > std::chrono::hours(1)) {
    return core::Fail(Bad("IKIGAI_PUSH_RETRY_MIN", "must be a positive duration of at most 1h"));
  }
  c.push_retry_min = *push_retry;
  auto push_timeout = ParseDuration(get("IKIGAI_PUSH_TIMEOUT"));
  if (!push_timeout || *push_timeout > std::chrono::minutes(5)) {
    return core::Fail(Bad("IKIGAI_PUSH_TIMEOUT", "must be a positive duration of at most 5m"));
  }
  c.push_timeout = *push_timeout;
  if (!uint_in("IKIGAI_PUSH_PARALLEL", 1, 256, c.push_parallel)) {
    return core::Fail(Bad("IKIGAI_PUSH_PARALLEL", "must be 1 to 256"));
  }
  c.sqlite_synchronous = get("IKIGAI_SQLITE_SYNCHRONOUS");
  if (c.sqlite_synchronous != "FULL" && c.sqlite_synchronous != "NORMAL") {
    return core::Fail(Bad("IKIGAI_SQLITE_SYNCHRONOUS", "must be FULL or NORMAL"));
  }
  return c;
}

}  // namespace ikigai::config

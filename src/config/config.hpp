// The one Config struct: every setting with its default and its variable name, validated once.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace ikigai::config {

enum class Environment { kDevelopment, kProduction };
enum class LogFormat { kText, kJson };

// A CIDR block (IPv4 or IPv6) of trusted proxies.
struct Cidr {
  std::vector<std::uint8_t> address;  // 4 or 16 bytes
  int prefix_length = 0;
  [[nodiscard]] bool Contains(const std::vector<std::uint8_t>& ip) const;
};

struct RateLimit {
  int max_events = 0;
  std::chrono::seconds window{0};
};

struct Listen {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
};

struct Config {
  Environment env = Environment::kDevelopment;
  Listen listen;
  std::string data_dir = "./data";
  std::string database_url;  // Default: sqlite://<data_dir>/ikigai.db
  // The first signs, all verify (rotation). Empty: a development secret from the data folder.
  std::vector<std::string> jwt_secrets;
  std::string jwt_issuer = "ikigai";
  std::string jwt_audience = "ikigai";
  std::string public_url = "http://localhost:3000";
  std::string smtp_url;  // Empty: emails are written to <data_dir>/mail/ (development only)
  std::string mail_from = "Ikigai <no-reply@localhost>";
  std::vector<std::string> cors_origins;
  std::uint32_t argon2_memory_kib = 19456;
  std::uint32_t argon2_ops = 2;
  std::chrono::seconds access_ttl{900};
  std::chrono::seconds refresh_ttl{30 * 24 * 3600};
  std::vector<Cidr> trusted_proxies;
  LogFormat log_format = LogFormat::kText;
  std::string log_level = "info";
  std::size_t max_body_bytes = 65536;
  bool require_verified_email = false;
  std::chrono::seconds jobs_interval{30};
  std::chrono::seconds mail_retry_min{60};  // first retry delay of a failed email, doubling to 1 h
  std::chrono::days activity_retention{365};
  bool rate_limits_enabled = true;
  std::map<std::string, RateLimit> rate_limits;  // login_account, login_address, ...
  unsigned io_threads = 2;       // HTTP I/O threads: parse and route only
  // Open connections per instance; at the limit the server stops accepting until one closes.
  // Event streams are not counted here once open (max_streams).
  std::size_t max_connections = 9000;
  // Open event streams (notifications) per instance; they do not count as connections above.
  std::size_t max_streams = 10000;
  unsigned workers = 4;          // database worker pool
  unsigned hash_threads = 2;     // password-hashing pool
  std::size_t queue_limit = 1024;  // per pool; beyond it requests get 503
  unsigned db_pool_size = 0;     // 0: workers + 2
  std::string sqlite_synchronous = "FULL";
  // Web Push (RFC 8030/8291/8292). The key text as given (PEM or base64url scalar), checked here;
  // empty: a development key kept in the data folder (refused in production).
  std::string vapid_private_key;
  std::string vapid_subject;       // the VAPID JWT's sub; default mailto: + IKIGAI_MAIL_FROM's address
  bool push_allow_http = false;    // http:// endpoints (a push service on a test machine)
  std::chrono::seconds push_retry_min{30};  // first retry delay, doubling (with jitter) up to 1 h
  std::chrono::seconds push_timeout{10};    // one request to a push service, connection included
  unsigned push_parallel = 8;               // requests in flight per instance
};

// One configurable setting: its environment variable, its `serve` flag, default and help.
struct Setting {
  const char* env;
  const char* flag;
  const char* default_value;  // nullptr: no default (unset)
  const char* help;
};

[[nodiscard]] const std::vector<Setting>& Settings();

// Builds a Config from variable values (env name -> text; missing names take their default).
// A bad value is a kValidation error whose detail names the variable.
[[nodiscard]] core::Result<Config> FromValues(const std::map<std::string, std::string>& values);

// Parses "host:port" (IPv6 as "[::1]:8080").
[[nodiscard]] std::optional<Listen> ParseListen(const std::string& text);

// Parses "123" (seconds) or "15m", "1h", "30d", "45s".
[[nodiscard]] std::optional<std::chrono::seconds> ParseDuration(const std::string& text);

// Parses an IPv4 or IPv6 address to bytes.
[[nodiscard]] std::optional<std::vector<std::uint8_t>> ParseIp(const std::string& text);

}  // namespace ikigai::config

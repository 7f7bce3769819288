// Request id, client address, media type and CORS origin checks.
#include "http/edge.hpp"

#include <algorithm>
#include <cctype>

namespace ikigai::http {
namespace {

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

bool IsTrusted(const std::string& ip, const std::vector<config::Cidr>& trusted) {
  auto bytes = config::ParseIp(ip);
  if (!bytes) return false;
  return std::any_of(trusted.begin(), trusted.end(), [&](const auto& c) { return c.Contains(*bytes); });
}

// "::ffff:1.2.3.4" is how Asio shows an IPv4 peer on a dual-stack socket: report the IPv4 form.
std::string Normalize(const std::string& ip) {
  if (ip.rfind("::ffff:", 0) == 0 && ip.find('.') != std::string::npos) return ip.substr(7);
  return ip;
}

}  // namespace

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-';
  });
}

std::string ClientAddress(const std::string& peer, const std::optional<std::string>& forwarded_for,
                          const std::vector<config::Cidr>& trusted) {
  std::string client = Normalize(peer);
  if (!forwarded_for || trusted.empty() || !IsTrusted(client, trusted)) return client;
  std::string_view list = *forwarded_for;
  while (!list.empty()) {
    const auto comma = list.rfind(',');
    const std::string item = Trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(0, comma);
    if (!config::ParseIp(item)) break;  // not an address: stop believing the header here
    client = Normalize(item);
    if (!IsTrusted(client, trusted)) break;
  }
  return client;
}

bool IsJsonMediaType(std::string_view content_type) {
  const auto semi = content_type.find(';');
  std::string type = Trim(content_type.substr(0, semi));
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  return type == "application/json";
}

namespace {

// http://localhost or http://127.0.0.1, optionally with a port of 1 to 5 digits; nothing else.
bool IsLocalOrigin(std::string_view origin) {
  for (std::string_view host : {std::string_view("http://localhost"), std::string_view("http://127.0.0.1")}) {
    if (origin.substr(0, host.size()) != host) continue;
    const std::string_view rest = origin.substr(host.size());
    if (rest.empty()) return true;
    if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return false;
    return std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  return false;
}

}  // namespace

std::optional<std::string> AllowedOrigin(const std::optional<std::string>& origin,
                                         const std::vector<std::string>& allowed, bool allow_local) {
  if (!origin) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *origin) != allowed.end()) return *origin;
  if (allow_local && IsLocalOrigin(*origin)) return *origin;
  return std::nullopt;
}

}  // namespace ikigai::http

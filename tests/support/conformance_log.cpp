#include "support/conformance_log.hpp"

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/text.hpp"

namespace ikigai::support {
namespace {

// Bodies over this are not stored (export downloads of big accounts, the 1 MiB body tests):
// the line says so with `body_skipped`, and the checker validates status and headers only.
constexpr size_t kMaxStoredBody = size_t{1} << 20;

const char* LogPath() {
  static const char* path = [] {
    const char* value = std::getenv("IKIGAI_CONFORMANCE_LOG");
    return value != nullptr && *value != '\0' ? value : nullptr;
  }();
  return path;
}

struct Log {
  std::mutex mutex;
  std::ofstream out;
};

Log& TheLog() {
  // Opened (and truncated) on first use; never destroyed, so that threads still running at exit
  // cannot write into a closed stream.
  static Log* log = [] {
    auto* opened = new Log;
    opened->out.open(LogPath(), std::ios::out | std::ios::trunc | std::ios::binary);
    if (!opened->out) {
      throw std::runtime_error(std::string("cannot open IKIGAI_CONFORMANCE_LOG ") + LogPath());
    }
    return opened;
  }();
  return *log;
}

// A JWT (base64url of '{"' starts it, then two more dot-separated runs): the access and MFA tokens
// must not reach a log file from a header.
bool LooksLikeJwt(std::string_view value) {
  static const std::regex jwt(R"(eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.)");
  return std::regex_search(value.begin(), value.end(), jwt);
}

// "name=value; Path=/; HttpOnly" -> "name=<redacted>; Path=/; HttpOnly": the checker sees which
// cookie was set or cleared (an empty value stays empty) and its attributes, never the secret.
std::string RedactSetCookie(std::string_view value) {
  auto eq = value.find('=');
  if (eq == std::string_view::npos) return "<redacted>";
  auto end = value.find(';', eq);
  std::string_view cookie_value =
      value.substr(eq + 1, end == std::string_view::npos ? std::string_view::npos : end - eq - 1);
  std::string out(value.substr(0, eq + 1));
  if (!cookie_value.empty()) out += "<redacted>";
  if (end != std::string_view::npos) out += value.substr(end);
  return out;
}

std::string RedactedHeader(const std::string& name, const std::string& value) {
  if (name == "set-cookie") return RedactSetCookie(value);
  if (name == "authorization" || name == "proxy-authorization" || name == "cookie" ||
      name.find("token") != std::string::npos || name.find("secret") != std::string::npos ||
      LooksLikeJwt(value)) {
    return "<redacted>";
  }
  return value;
}

// "http://host:port/path?query" -> "/path?query"; a relative path stays as it is. The values of
// query parameters named like a secret (?ticket=, ?token=) are redacted.
std::string PathOf(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    auto slash = url.find('/', scheme + 3);
    url = slash == std::string_view::npos ? std::string_view("/") : url.substr(slash);
  }
  auto query = url.find('?');
  if (query == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, query + 1));
  std::string_view rest = url.substr(query + 1);
  while (true) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    std::string name = LowerAscii(pair.substr(0, eq));
    bool secret = name.find("token") != std::string::npos || name.find("ticket") != std::string::npos ||
                  name.find("secret") != std::string::npos;
    if (secret && eq != std::string_view::npos) {
      out.append(pair.substr(0, eq + 1)).append("<redacted>");
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) break;
    out += '&';
    rest.remove_prefix(amp + 1);
  }
  return out;
}

// The body as a JSON string when it is UTF-8; nullopt otherwise (nlohmann refuses to dump it).
std::optional<std::string> DumpString(const std::string& body) {
  try {
    return nlohmann::json(body).dump();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

bool ConformanceLogEnabled() { return LogPath() != nullptr; }

void OpenConformanceLog() {
  if (ConformanceLogEnabled()) (void)TheLog();
}

std::string ConformanceLine(const Request& request, std::string_view url,
                            std::string_view content_type, const Response& response) {
  nlohmann::json sent = nlohmann::json::object();
  if (!content_type.empty()) sent["content-type"] = content_type;
  bool authorization = false;
  bool cookie = false;
  for (const auto& [raw_name, value] : request.headers) {
    std::string name = LowerAscii(raw_name);
    if (name == "authorization") {
      authorization = authorization || !value.empty();
    } else if (name == "cookie") {
      cookie = cookie || !value.empty();
    } else if (name == "origin" || name == "accept" || name == "x-ikigai-refresh" ||
               name == "if-match" || name == "if-none-match" || name == "last-event-id" ||
               name.rfind("access-control-request-", 0) == 0) {
      sent[name] = value;
    }
  }

  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [name, value] : response.headers) {
    headers[name].push_back(RedactedHeader(name, value));
  }

  nlohmann::json line = {
      {"method", request.method},
      {"path", PathOf(url)},
      {"request",
       {{"headers", sent},
        {"authorization", authorization},
        {"cookie", cookie},
        {"body", !request.body.empty() || request.chunked}}},
      {"status", response.status},
      {"headers", headers},
      {"body_size", response.body.size()},
  };
  if (response.curl_code != 0) line["transfer_error"] = response.error;

  std::string response_type = LowerAscii(response.Header("content-type"));
  std::string text = line.dump();
  text.pop_back();  // the closing brace: the body member is appended as already-dumped text
  if (response_type.rfind("text/event-stream", 0) == 0) {
    text += R"(,"body_skipped":"event_stream"})";
  } else if (response.body.size() > kMaxStoredBody) {
    text += R"(,"body_skipped":"too_large"})";
  } else if (auto body = DumpString(response.body)) {
    text.append(",\"body\":").append(*body).append("}");
  } else {
    text += R"(,"body_skipped":"not_utf8"})";
  }
  text += '\n';
  return text;
}

void RecordExchange(const Request& request, std::string_view url, std::string_view content_type,
                    const Response& response) {
  if (!ConformanceLogEnabled() || response.status == 0) return;
  std::string text = ConformanceLine(request, url, content_type, response);
  Log& log = TheLog();
  std::lock_guard lock(log.mutex);
  log.out << text;
  log.out.flush();
}

}  // namespace ikigai::support

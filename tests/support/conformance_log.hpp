// The conformance recorder (issue #17): when IKIGAI_CONFORMANCE_LOG names a file, every exchange
// the tests make with the server under test through Http::Send is appended to it as one JSON line,
// and tools/openapi/conformance.mjs checks each response against the served OpenAPI document.
// The file is truncated when the process creates its first Http client; lines are written whole under
// a lock and flushed, so the many threads of one test do not interleave.
#pragma once

#include <string>
#include <string_view>

namespace ikigai::support {

struct Request;
struct Response;

// True when IKIGAI_CONFORMANCE_LOG is set (read once per process).
[[nodiscard]] bool ConformanceLogEnabled();

// Opens (truncates) the log once per process; does nothing when recording is off.
void OpenConformanceLog();

// The log line (with its newline) for one exchange: what RecordExchange appends.
[[nodiscard]] std::string ConformanceLine(const Request& request, std::string_view url,
                                          std::string_view content_type, const Response& response);

// Appends one exchange. Does nothing when recording is off or no response arrived (status 0).
// `url` is the full URL that was requested; `content_type` the Content-Type actually sent ("" for
// none). Authorization and cookies are recorded as "sent or not", never their values; Set-Cookie
// values and token-like response header values are redacted.
void RecordExchange(const Request& request, std::string_view url, std::string_view content_type,
                    const Response& response);

}  // namespace ikigai::support

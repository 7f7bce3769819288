// What a handler sees of a request and what it answers: no RESTinio types leak past this file.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/account_service.hpp"
#include "core/error.hpp"
#include "core/request_meta.hpp"

namespace ikigai::http {


struct Request {
  std::string method;       // "GET", ...
  std::string path;         // without the query
  std::string route;        // the matched template, e.g. "/api/v1/tasks/{id}"
  std::map<std::string, std::string> params;  // path parameters by name
  std::map<std::string, std::string> query;   // first value of each query parameter
  bool malformed_query = false;  // answered 400 after authentication (API.md's check order)
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  std::string request_id;
  std::string client_ip;
  std::string user_agent;
  std::optional<auth::AuthContext> auth;  // set for routes that require authentication
  std::chrono::steady_clock::time_point started;

  // The field value of this lowercase name: every field line of that name, in order, joined by
  // ", " as RFC 9110 section 5.3 combines them ("; " for Cookie, RFC 9113 section 8.2.3), or
  // nullopt when there is none. It is the only way handlers read headers, so a second line can
  // never be overlooked: a list field (X-Forwarded-For, If-Match) gets all its members, and a
  // singleton sent twice becomes a value its own parser refuses (docs/api.md, "Repeated header
  // fields").
  [[nodiscard]] std::optional<std::string> Header(std::string_view lower_name) const;
  [[nodiscard]] std::string Param(const std::string& name) const;
  [[nodiscard]] core::RequestMeta Meta() const { return {client_ip, user_agent, request_id}; }
};

// The sending side of an open event stream (Server-Sent Events), implemented by the transport.
// Thread safe: the notification poller calls it from its own thread.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Queues bytes (one or more whole SSE events) as one chunk; false when the stream is closed.
  // A client that does not read is disconnected: a Send that finds more than 256 KiB queued and
  // not yet written returns false (and so does every later one), as does one after a write that
  // did not finish in the 30 s write timeout. One Send of any size is taken when less is queued
  // (so a resume backlog fits in one Send). Empty bytes send nothing (an empty chunk would end
  // the stream).
  virtual bool Send(std::string bytes) = 0;
  // Ends the stream: the last chunk, then the connection closes. Idempotent.
  virtual void Close() = 0;
  [[nodiscard]] virtual bool IsOpen() const = 0;
};

struct StreamStart {
  // Called once on the connection's strand after the header (and Reply::body, if not empty, as
  // the first chunk) was queued; the callee keeps the sink (and drops it once !IsOpen()). Not
  // called when the transport refuses the stream (503 at IKIGAI_MAX_STREAMS or while draining,
  // a HEAD request, or a client gone before the answer).
  std::function<void(std::shared_ptr<EventSink>)> on_open;
};

// A download of unknown length (the data export): written as a chunked stream whose chunks the
// transport pulls one at a time (docs/architecture.md, "Downloads"). `next` runs on the worker
// pool, never twice at once, and is called again only once the previous chunk was written to the
// socket: so at most one chunk is in memory and a slow client just makes the producer wait (each
// write has the 30 s write timeout). It returns the next bytes (keep a chunk to about 64 KiB;
// empty is allowed and sends nothing), or nullopt at the end (then the last chunk goes out). A
// throw closes the connection without the last chunk, so the client sees a truncated transfer,
// never a short document that looks complete. Dropped, not called again, when the client goes away.
struct Download {
  std::function<std::optional<std::string>()> next;
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: the answer is an open-ended chunked stream (docs/architecture.md, "Event streams").
  std::shared_ptr<StreamStart> stream;
  // Set: the body is produced by this, chunk by chunk, after the header (and `body`, if any).
  std::shared_ptr<Download> download;

  Reply& With(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// A JSON reply; invalid UTF-8 in strings is replaced, never a throw.
[[nodiscard]] Reply JsonReply(int status, const nlohmann::json& body);
// A JSON reply whose body is already JSON text (see AppendJsonString).
[[nodiscard]] Reply JsonTextReply(int status, std::string json_text);
// 204 No Content.
[[nodiscard]] Reply NoContent();
// The problem+json reply for an error (adds Retry-After, WWW-Authenticate where the code wants).
[[nodiscard]] Reply ErrorReply(const core::Error& error, const Request& request);

}  // namespace ikigai::http

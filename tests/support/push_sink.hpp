// A local Web Push service (push_sink.py on python3-cryptography) that verifies VAPID and
// decrypts every push with keys it generated as a browser would; see push_sink.py.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace ikigai::support {

class PushSink {
 public:
  // Throws std::runtime_error (with the sink's stderr) when it does not start within 30 s.
  PushSink();
  ~PushSink();
  PushSink(const PushSink&) = delete;
  PushSink& operator=(const PushSink&) = delete;

  [[nodiscard]] std::string Url() const;  // "http://127.0.0.1:PORT"
  // A new browser-side subscription: {"id", "endpoint", "keys": {"p256dh", "auth"}}.
  [[nodiscard]] nlohmann::json NewSubscription() const;
  // The VAPID public key (base64url) pushes must verify with.
  void SetVapidKey(const std::string& public_key) const;
  // The next answers to pushes for subscription `id` (then 201).
  void Answer(const std::string& id, const std::vector<int>& statuses,
              std::optional<int> retry_after = std::nullopt) const;
  // Every push received so far, oldest first (see push_sink.py for the fields).
  [[nodiscard]] nlohmann::json Pushes() const;
  // TCP connections accepted so far.
  [[nodiscard]] long long Connections() const;
  // Waits until `count` pushes answered `status` arrived for `id` (any subscription when empty);
  // returns all pushes received by then.
  nlohmann::json WaitForPushes(std::size_t count, const std::string& id = "", int status = 201,
                               std::chrono::milliseconds timeout = std::chrono::seconds{20}) const;

 private:
  TempDir dir_;
  std::optional<Process> process_;
  int port_ = 0;
};

}  // namespace ikigai::support

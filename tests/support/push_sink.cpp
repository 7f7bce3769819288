#include "support/push_sink.hpp"

#include <stdexcept>

#include "support/http_client.hpp"
#include "support/wait.hpp"

namespace ikigai::support {

PushSink::PushSink() : dir_("ikigai-push-") {
  ProcessOptions options;
  options.binary = "/usr/bin/python3";  // Debian's python3-cryptography is installed for this one
  options.args = {"-u", IKIGAI_PUSH_SINK};
  options.env = {{"PYTHONDONTWRITEBYTECODE", "1"}};
  options.unset_env_prefixes = {"PYTHON"};
  options.output_dir = dir_.Path();
  options.name = "push_sink";
  process_.emplace(std::move(options));
  port_ = AwaitListeningPort(*process_, std::chrono::seconds{30});
  if (port_ == 0) {
    std::string err = process_->Stderr();
    process_.reset();
    throw std::runtime_error("push_sink.py did not start:\n" + err);
  }
}

PushSink::~PushSink() {
  if (process_) process_->Kill();
}

std::string PushSink::Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

namespace {

nlohmann::json Call(const std::string& base, const std::string& method, const std::string& path,
                    const nlohmann::json& body = nlohmann::json::object()) {
  Http http(base, Http::Record::kNo);  // the sink is not the server under test
  auto res = method == "GET" ? http.Get(path) : http.Post(path, body.dump(), {{"Content-Type", "application/json"}});
  if (res.status != 200) throw std::runtime_error("push sink " + path + " answered " + std::to_string(res.status));
  return res.Json();
}

}  // namespace

nlohmann::json PushSink::NewSubscription() const { return Call(Url(), "POST", "/_sink/subscriptions"); }

void PushSink::SetVapidKey(const std::string& public_key) const {
  (void)Call(Url(), "POST", "/_sink/vapid-key", {{"public_key", public_key}});
}

void PushSink::Answer(const std::string& id, const std::vector<int>& statuses, std::optional<int> retry_after) const {
  nlohmann::json body = {{"statuses", statuses}};
  if (retry_after) body["retry_after"] = *retry_after;
  (void)Call(Url(), "POST", "/_sink/respond/" + id, body);
}

nlohmann::json PushSink::Pushes() const { return Call(Url(), "GET", "/_sink/received")["pushes"]; }

long long PushSink::Connections() const { return Call(Url(), "GET", "/_sink/received")["connections"]; }

nlohmann::json PushSink::WaitForPushes(std::size_t count, const std::string& id, int status,
                                       std::chrono::milliseconds timeout) const {
  nlohmann::json all;
  (void)WaitUntil(
      [&] {
        all = Pushes();
        std::size_t n = 0;
        for (const auto& p : all) {
          if ((id.empty() || p["subscription"] == id) && p["answered"] == status) ++n;
        }
        return n >= count;
      },
      timeout, std::chrono::milliseconds{20});
  return all;
}

}  // namespace ikigai::support

// spdlog loggers: "default" for events, "access" (async, drops the oldest under overload) for requests.
#include "cli/logging.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace ikigai::cli {
namespace {

// %j: the message as a JSON string, so JSON lines stay valid whatever a message holds.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string text(msg.payload.data(), msg.payload.size());
    const std::string quoted =
        nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

std::unique_ptr<spdlog::formatter> Formatter(config::LogFormat format, bool access) {
  auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == config::LogFormat::kJson) {
    f->add_flag<JsonMessageFlag>('j');
    // Access lines carry their own JSON members after "logger".
    f->set_pattern(access ? R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"access",%v})"
                          : R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":%j})");
  } else {
    f->set_pattern(access ? "%Y-%m-%dT%H:%M:%S.%eZ access %v" : "%Y-%m-%dT%H:%M:%S.%eZ %l %v");
  }
  return f;
}

}  // namespace

void SetUpLogging(config::LogFormat format, const std::string& level) {
  // Separate sinks: a logger's formatter is set on its sinks.
  auto main_logger = std::make_shared<spdlog::logger>("ikigai", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  main_logger->set_formatter(Formatter(format, false));
  main_logger->set_level(spdlog::level::from_str(level));
  main_logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(main_logger);

  if (!spdlog::thread_pool()) spdlog::init_thread_pool(8192, 1);
  spdlog::drop("access");
  auto access = std::make_shared<spdlog::async_logger>("access", std::make_shared<spdlog::sinks::stderr_sink_mt>(), spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::overrun_oldest);
  access->set_formatter(Formatter(format, true));
  access->set_level(spdlog::level::from_str(level));
  spdlog::register_logger(access);
}

}  // namespace ikigai::cli

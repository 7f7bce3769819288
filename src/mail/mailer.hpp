// Mail transports: SMTP through libcurl, or .eml files in a folder for development. Only the
// outbox worker calls them, so a slow mail server never holds a request.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "mail/message.hpp"

namespace ikigai::mail {

class Mailer {
 public:
  virtual ~Mailer() = default;
  // Delivers one rendered message; an error's detail is safe to store and log (no credentials).
  [[nodiscard]] virtual core::Result<void> Send(const std::string& from_address, const std::string& to_address,
                                                const std::string& mime) = 0;
  // Where mail goes, without credentials (for the start-up log).
  [[nodiscard]] virtual std::string Describe() const = 0;
  // How the outbox should encode text parts for this transport.
  [[nodiscard]] virtual BodyEncoding Encoding() const { return BodyEncoding::kQuotedPrintable; }
};

struct SmtpSettings {
  std::string url;       // smtp://host:port or smtps://host:port (no credentials)
  std::string username;  // empty: no AUTH
  std::string password;
  bool require_tls = false;  // smtp:// only: refuse to send without STARTTLS
};

// Parses IKIGAI_SMTP_URL: smtp://user:pass@host:port[?tls=required] or smtps://user:pass@host:port.
[[nodiscard]] core::Result<SmtpSettings> ParseSmtpUrl(const std::string& url);

class SmtpMailer final : public Mailer {
 public:
  explicit SmtpMailer(SmtpSettings settings) : settings_(std::move(settings)) {}
  [[nodiscard]] core::Result<void> Send(const std::string& from_address, const std::string& to_address,
                                        const std::string& mime) override;
  [[nodiscard]] std::string Describe() const override;

 private:
  SmtpSettings settings_;
};

// Development: each message becomes <dir>/<time>-<n>.eml, written atomically.
class DirectoryMailer final : public Mailer {
 public:
  DirectoryMailer(std::filesystem::path dir, const core::Clock& clock) : dir_(std::move(dir)), clock_(clock) {}
  [[nodiscard]] core::Result<void> Send(const std::string& from_address, const std::string& to_address,
                                        const std::string& mime) override;
  [[nodiscard]] std::string Describe() const override { return "files in " + dir_.string(); }
  // A developer opens these in a text editor: UTF-8 as written, links whole.
  [[nodiscard]] BodyEncoding Encoding() const override { return BodyEncoding::k8bit; }

 private:
  std::filesystem::path dir_;
  const core::Clock& clock_;
  std::atomic<unsigned> counter_{0};
};

}  // namespace ikigai::mail

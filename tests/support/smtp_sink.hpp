// A real SMTP server (smtp_sink.py on aiosmtpd) that keeps every email the server sends.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace ikigai::support {

// Starts `/usr/bin/python3 smtp_sink.py DIR` on a free loopback port; stops it on destruction.
// Messages are raw RFC 5322 text with two extra first lines, "X-Sink-Mail-From:" and
// "X-Sink-Rcpt-To:" (the SMTP envelope). Any AUTH PLAIN/LOGIN credentials are accepted.
class SmtpSink {
 public:
  // Throws std::runtime_error (with the sink's stderr) when it does not start within 30 s.
  SmtpSink();
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  [[nodiscard]] int Port() const { return port_; }
  // "smtp://127.0.0.1:PORT", for IKIGAI_SMTP_URL.
  [[nodiscard]] std::string Url() const;
  // Every message received so far, oldest first.
  [[nodiscard]] std::vector<std::string> Messages() const;
  // Waits until at least `count` messages arrived, then returns all of them (fewer on timeout).
  [[nodiscard]] std::vector<std::string> WaitForMessages(
      std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds{10}) const;
  // While failing, every message is refused with 451 (a temporary error) and not stored.
  void SetFailing(bool failing);
  void Stop();

 private:
  TempDir dir_;
  std::string mail_dir_;
  std::optional<Process> process_;
  int port_ = 0;
};

// The first URL in an email that starts with `prefix` (e.g.
// "http://app.test/reset-password?token=") up to the next whitespace, quote or angle bracket; "" if
// none. Looks through the raw text and the decoded quoted-printable (soft line breaks "=\r\n",
// "=3D") and base64 bodies.
[[nodiscard]] std::string ExtractLink(std::string_view message, std::string_view prefix);

// The value of a header of an email's top-level header block ("" if absent), unfolded.
[[nodiscard]] std::string EmailHeader(std::string_view message, std::string_view name);

// Lenient MIME decoders for received mail: base64 ignores line breaks and padding and takes
// both alphabets; quoted-printable drops soft line breaks ('_' is a space in RFC 2047 words).
[[nodiscard]] std::string DecodeBase64(std::string_view in);
[[nodiscard]] std::string DecodeQuotedPrintable(std::string_view in, bool underscore_is_space = false);

}  // namespace ikigai::support

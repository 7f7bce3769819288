// Reading the emails the server sends: RFC 5322 headers (unfolded, RFC 2047 decoded), MIME
// structure (multipart, base64 / quoted-printable parts), links and tokens in them; and waiting for
// the emails of one recipient in an SmtpSink.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/smtp_sink.hpp"

namespace ikigai::support {

class Http;

// A MIME entity: the whole message or one of its parts.
struct MimeEntity {
  // In the order sent; names as sent, values unfolded (CRLF before white space removed) and trimmed.
  std::vector<std::pair<std::string, std::string>> headers;
  // The body as transmitted, and with its Content-Transfer-Encoding (base64, quoted-printable)
  // undone; for a multipart entity `body` is the raw body too.
  std::string raw_body;
  std::string body;
  // The parts of a multipart entity, in order; empty otherwise.
  std::vector<MimeEntity> parts;
  // A multipart body ended with its closing "--boundary--" line.
  bool closed = false;

  // The first value of a header (case-insensitive name), "" when absent.
  [[nodiscard]] std::string Header(std::string_view name) const;
  // How many times a header occurs.
  [[nodiscard]] std::size_t HeaderCount(std::string_view name) const;
  // The Content-Type's type/subtype, lowercased ("text/plain" when there is no Content-Type).
  [[nodiscard]] std::string MediaType() const;
  // A Content-Type parameter (case-insensitive name, quotes removed), "" when absent.
  [[nodiscard]] std::string MediaParam(std::string_view name) const;
};

struct Email : MimeEntity {
  std::string raw;
  // The SMTP envelope as the sink recorded it ("X-Sink-Mail-From:", "X-Sink-Rcpt-To:"); these two
  // lines are not among `headers`.
  std::string envelope_from;
  std::string envelope_to;

  // Header(name) with RFC 2047 encoded words decoded (UTF-8 text).
  [[nodiscard]] std::string DecodedHeader(std::string_view name) const;
  // The first part (depth first, the message itself included when it is not multipart) of this
  // media type; nullptr when there is none.
  [[nodiscard]] const MimeEntity* FindPart(std::string_view media_type) const;
  // The decoded text/plain and text/html parts ("" when missing).
  [[nodiscard]] std::string Text() const;
  [[nodiscard]] std::string Html() const;
};

// Parses a message as stored by the SMTP sink (or an .eml file). Never throws; what cannot be
// parsed is left empty.
[[nodiscard]] Email ParseEmail(std::string_view raw);

// Decodes RFC 2047 encoded words ("=?UTF-8?B?...?=", "=?UTF-8?Q?...?="); white space between two
// adjacent encoded words is dropped, as the RFC says. Other text is kept.
[[nodiscard]] std::string DecodeEncodedWords(std::string_view value);

// Replaces &amp; &lt; &gt; &quot; &apos; &#NN; &#xHH; by the characters they stand for.
[[nodiscard]] std::string HtmlUnescape(std::string_view html);

// The value of the first href="..." (or '...') in `html` whose unescaped value starts with
// `prefix`, still HTML-escaped as it appears in the source; "" when none.
[[nodiscard]] std::string RawHref(std::string_view html, std::string_view prefix);

// The first occurrence of `prefix` in `text` and what follows up to white space, a quote or an
// angle bracket; "" when none.
[[nodiscard]] std::string LinkIn(std::string_view text, std::string_view prefix);

// The address inside "Name <addr>" (trimmed), or the whole value trimmed when there are no angle
// brackets.
[[nodiscard]] std::string AddressOf(std::string_view mailbox);

// The messages in `sink` whose envelope recipient is `to` (ASCII case-insensitive), parsed, in
// arrival order; with `must_contain`, only those whose text/plain part contains it.
[[nodiscard]] std::vector<Email> MailTo(const SmtpSink& sink, std::string_view to,
                                        std::string_view must_contain = {});

// Polls MailTo until at least `count` such messages arrived; returns them (fewer on timeout).
[[nodiscard]] std::vector<Email> WaitForMailTo(
    const SmtpSink& sink, std::string_view to, std::size_t count, std::string_view must_contain = {},
    std::chrono::milliseconds timeout = std::chrono::seconds{20});

// The outbox metrics of one instance's /metrics.
struct MailMetrics {
  double sent = 0;     // ikigai_mail_sent_total
  double depth = 0;    // ikigai_mail_outbox_depth
  double retried = 0;  // ikigai_mail_retried_total
  double failed = 0;   // ikigai_mail_failed_total
};

// GET /metrics; nullopt when it does not answer 200 or lacks one of the four metrics.
[[nodiscard]] std::optional<MailMetrics> ScrapeMailMetrics(const Http& http);

}  // namespace ikigai::support

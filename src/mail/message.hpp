// Email messages: what the product sends, and their MIME form (multipart text + HTML, UTF-8,
// RFC 2047 encoded headers) as handed to the SMTP client or written to an .eml file.
#pragma once

#include <string>

#include "core/clock.hpp"

namespace ikigai::mail {

struct OutgoingMail {
  std::string to;       // one address
  std::string subject;  // UTF-8
  std::string text;     // text/plain body
  std::string html;     // text/html body
};

// How the text and HTML parts are written. SMTP gets quoted-printable: 7-bit, lines of at most 76
// characters, so any relay takes it. A development .eml file gets 8bit: the UTF-8 text as written,
// links whole and readable in a text editor (a part with a line over 998 bytes, which 8bit may not
// carry, falls back to quoted-printable).
enum class BodyEncoding { kQuotedPrintable, k8bit };

// RFC 2045 6.7 quoted-printable of UTF-8 text: line ends become CRLF hard breaks, other lines are
// soft-broken ("=" CRLF) to at most 76 characters without splitting an "=XX", '=' and bytes
// outside printable ASCII are "=XX", and a space or tab before a line end is encoded.
[[nodiscard]] std::string QuotedPrintable(const std::string& text);

// "=?UTF-8?B?...?=" words when the text is not plain ASCII, else the text itself.
[[nodiscard]] std::string EncodeHeaderWord(const std::string& text);

// The address inside "Name <addr>" (or the whole text when there are no angle brackets).
[[nodiscard]] std::string AddressOf(const std::string& mailbox);

// The full message: headers (From, To, Subject, Date, Message-ID, MIME-Version) and a
// multipart/alternative body whose text and HTML parts use `encoding`; CRLF line ends. The
// message id also makes the boundary unique.
[[nodiscard]] std::string RenderMime(const OutgoingMail& mail, const std::string& from, core::TimePoint date,
                                     const std::string& message_id,
                                     BodyEncoding encoding = BodyEncoding::kQuotedPrintable);

}  // namespace ikigai::mail

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

// "=?UTF-8?B?...?=" words when the text is not plain ASCII, else the text itself.
[[nodiscard]] std::string EncodeHeaderWord(const std::string& text);

// The address inside "Name <addr>" (or the whole text when there are no angle brackets).
[[nodiscard]] std::string AddressOf(const std::string& mailbox);

// The full message: headers (From, To, Subject, Date, Message-ID, MIME-Version) and a
// multipart/alternative body with base64 parts; CRLF line ends. `boundary_seed` makes the
// boundary unique (the message id is a good one).
[[nodiscard]] std::string RenderMime(const OutgoingMail& mail, const std::string& from, core::TimePoint date,
                                     const std::string& message_id);

}  // namespace ikigai::mail

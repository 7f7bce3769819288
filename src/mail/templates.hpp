// Email templates (templates/email/<kind>.txt and .html, compiled in), rendered with kainjow
// mustache: {{x}} is HTML-escaped, the text part uses {{{x}}}. The first line of the .txt file is
// "Subject: ...".
#pragma once

#include <map>
#include <string>

#include "core/error.hpp"
#include "mail/message.hpp"

namespace ikigai::mail {

const std::map<std::string, std::string>& EmbeddedTemplates();

// Text a user typed (the display name, a new address) goes only into mail to an address the
// account had proved before the request that queues it: `values[key] = value` when
// `address_proved`, nothing otherwise, and the templates then use neutral words ("Hello,", "another
// address"). So an account registered with someone else's address cannot put its text into their
// mailbox. verify_email, which only ever goes to an unproved address, uses no such value at all.
inline void SetIfProved(std::map<std::string, std::string>& values, bool address_proved, const std::string& key,
                        const std::string& value) {
  if (address_proved) values[key] = value;
}

// Renders kind "verify_email", "reset_password", "password_changed" or "email_changed" for `to`.
// Throws core::InternalError for an unknown kind or a broken template (a bug, caught by tests).
[[nodiscard]] OutgoingMail RenderTemplate(const std::string& kind, const std::string& to,
                                          const std::map<std::string, std::string>& values);

}  // namespace ikigai::mail

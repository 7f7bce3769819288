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

// Renders kind "verify_email", "reset_password", "password_changed" or "email_changed" for `to`.
// Throws core::InternalError for an unknown kind or a broken template (a bug, caught by tests).
[[nodiscard]] OutgoingMail RenderTemplate(const std::string& kind, const std::string& to,
                                          const std::map<std::string, std::string>& values);

}  // namespace ikigai::mail

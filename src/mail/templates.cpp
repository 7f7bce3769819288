// Template lookup and rendering.
#include "mail/templates.hpp"

#include <kainjow/mustache.hpp>

namespace ikigai::mail {

OutgoingMail RenderTemplate(const std::string& kind, const std::string& to,
                            const std::map<std::string, std::string>& values) {
  const auto& all = EmbeddedTemplates();
  auto txt = all.find(kind + ".txt");
  auto html = all.find(kind + ".html");
  if (txt == all.end() || html == all.end()) throw core::InternalError("no email template " + kind);
  kainjow::mustache::data data;
  for (const auto& [k, v] : values) data.set(k, v);
  kainjow::mustache::mustache text_tmpl{txt->second};
  kainjow::mustache::mustache html_tmpl{html->second};
  if (!text_tmpl.is_valid() || !html_tmpl.is_valid()) throw core::InternalError("broken email template " + kind);
  std::string text = text_tmpl.render(data);
  OutgoingMail mail;
  mail.to = to;
  if (text.rfind("Subject: ", 0) == 0) {
    const auto eol = text.find('\n');
    mail.subject = text.substr(9, eol - 9);
    text = eol == std::string::npos ? std::string{} : text.substr(eol + 1);
  }
  mail.text = std::move(text);
  mail.html = html_tmpl.render(data);
  return mail;
}

}  // namespace ikigai::mail

// Template lookup and rendering.
#include "mail/templates.hpp"

#include <kainjow/mustache.hpp>

namespace ikigai::mail {

OutgoingMail RenderTemplate(const std::string& kind, const std::string& to,
                            const std::map<std::string, std::string>& values) {
  // Parsed once per thread and kind: an announcement renders one email per recipient, and parsing
  // was most of that cost. (kainjow's render is not const, hence a copy per thread.)
  struct Parsed {
    kainjow::mustache::mustache text, html;
  };
  thread_local std::map<std::string, Parsed> parsed;
  auto found = parsed.find(kind);
  if (found == parsed.end()) {
    const auto& all = EmbeddedTemplates();
    auto txt = all.find(kind + ".txt");
    auto html = all.find(kind + ".html");
    if (txt == all.end() || html == all.end()) throw core::InternalError("no email template " + kind);
    Parsed p{kainjow::mustache::mustache{txt->second}, kainjow::mustache::mustache{html->second}};
    if (!p.text.is_valid() || !p.html.is_valid()) throw core::InternalError("broken email template " + kind);
    found = parsed.emplace(kind, std::move(p)).first;
  }
  auto& text_tmpl = found->second.text;
  auto& html_tmpl = found->second.html;
  kainjow::mustache::data data;
  for (const auto& [k, v] : values) data.set(k, v);
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

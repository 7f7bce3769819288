// Reading the emails the server sends.
#include "support/email_message.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/wait.hpp"
#include "support/text.hpp"

namespace ikigai::support {
namespace {

std::string Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

// Splits "headers CRLF CRLF body" into unfolded headers and the body.
void ParseEntity(std::string_view text, MimeEntity& entity);

void ParseHeaders(std::string_view block, std::vector<std::pair<std::string, std::string>>& out) {
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t end = block.find('\n', pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (line.empty()) continue;
    if ((line.front() == ' ' || line.front() == '\t') && !out.empty()) {
      out.back().second += std::string(line);  // folded continuation: only the CRLF goes
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  for (auto& [name, value] : out) value = Trim(value);
}

void ParseBody(MimeEntity& entity) {
  const std::string media = entity.MediaType();
  const std::string encoding = LowerAscii(Trim(entity.Header("Content-Transfer-Encoding")));
  if (media.rfind("multipart/", 0) != 0) {
    if (encoding == "base64") {
      entity.body = DecodeBase64(entity.raw_body);
    } else if (encoding == "quoted-printable") {
      entity.body = DecodeQuotedPrintable(entity.raw_body, false);
    } else {
      entity.body = entity.raw_body;
    }
    return;
  }
  entity.body = entity.raw_body;
  const std::string boundary = entity.MediaParam("boundary");
  if (boundary.empty()) return;
  const std::string delimiter = "--" + boundary;
  // Delimiter lines: "--boundary" at the start of a line, optionally followed by "--" (the end)
  // and white space.
  std::string_view body = entity.raw_body;
  std::vector<std::pair<std::size_t, std::size_t>> lines;  // [start of line, end of line incl. LF)
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find('\n', pos);
    const std::size_t next = end == std::string_view::npos ? body.size() : end + 1;
    std::string_view line = body.substr(pos, next - pos);
    std::string trimmed = Trim(line);
    if (trimmed == delimiter || trimmed == delimiter + "--") lines.emplace_back(pos, next);
    pos = next;
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string trimmed = Trim(body.substr(lines[i].first, lines[i].second - lines[i].first));
    if (trimmed == delimiter + "--") {
      entity.closed = true;
      break;
    }
    if (i + 1 >= lines.size()) break;
    std::size_t start = lines[i].second;
    std::size_t stop = lines[i + 1].first;
    // The CRLF before a delimiter belongs to the delimiter (RFC 2046).
    if (stop > start && body[stop - 1] == '\n') --stop;
    if (stop > start && body[stop - 1] == '\r') --stop;
    MimeEntity part;
    ParseEntity(body.substr(start, stop - start), part);
    entity.parts.push_back(std::move(part));
  }
}

void ParseEntity(std::string_view text, MimeEntity& entity) {
  std::size_t split = std::string_view::npos;
  std::size_t body_start = text.size();
  if (text.rfind("\r\n", 0) == 0) {
    split = 0;
    body_start = 2;
  } else if (text.rfind("\n", 0) == 0) {
    split = 0;
    body_start = 1;
  } else if (auto crlf = text.find("\r\n\r\n"); crlf != std::string_view::npos) {
    split = crlf;
    body_start = crlf + 4;
  } else if (auto lf = text.find("\n\n"); lf != std::string_view::npos) {
    split = lf;
    body_start = lf + 2;
  }
  ParseHeaders(text.substr(0, split == std::string_view::npos ? text.size() : split), entity.headers);
  entity.raw_body = std::string(body_start < text.size() ? text.substr(body_start) : std::string_view{});
  ParseBody(entity);
}

const MimeEntity* FindPartIn(const MimeEntity& entity, std::string_view media_type) {
  if (entity.parts.empty()) return entity.MediaType() == media_type ? &entity : nullptr;
  for (const auto& part : entity.parts) {
    if (const auto* found = FindPartIn(part, media_type)) return found;
  }
  return nullptr;
}

}  // namespace

std::string MimeEntity::Header(std::string_view name) const {
  const std::string wanted = LowerAscii(name);
  for (const auto& [n, v] : headers) {
    if (LowerAscii(n) == wanted) return v;
  }
  return {};
}

std::size_t MimeEntity::HeaderCount(std::string_view name) const {
  const std::string wanted = LowerAscii(name);
  return static_cast<std::size_t>(std::count_if(
      headers.begin(), headers.end(), [&](const auto& h) { return LowerAscii(h.first) == wanted; }));
}

std::string MimeEntity::MediaType() const {
  const std::string value = Header("Content-Type");
  if (value.empty()) return "text/plain";
  return LowerAscii(Trim(value.substr(0, value.find(';'))));
}

std::string MimeEntity::MediaParam(std::string_view name) const {
  const std::string value = Header("Content-Type");
  const std::string wanted = LowerAscii(name);
  std::size_t pos = value.find(';');
  while (pos != std::string::npos) {
    const std::size_t start = pos + 1;
    const std::size_t eq = value.find('=', start);
    if (eq == std::string::npos) break;
    const std::string key = LowerAscii(Trim(std::string_view(value).substr(start, eq - start)));
    std::string param;
    std::size_t after;
    if (eq + 1 < value.size() && value[eq + 1] == '"') {
      const std::size_t close = value.find('"', eq + 2);
      param = value.substr(eq + 2, close == std::string::npos ? std::string::npos : close - eq - 2);
      after = close == std::string::npos ? std::string::npos : value.find(';', close);
    } else {
      after = value.find(';', eq);
      param = Trim(std::string_view(value).substr(
          eq + 1, after == std::string::npos ? std::string_view::npos : after - eq - 1));
    }
    if (key == wanted) return param;
    pos = after;
  }
  return {};
}

std::string Email::DecodedHeader(std::string_view name) const { return DecodeEncodedWords(Header(name)); }

const MimeEntity* Email::FindPart(std::string_view media_type) const {
  return FindPartIn(*this, media_type);
}

std::string Email::Text() const {
  const auto* part = FindPart("text/plain");
  return part == nullptr ? std::string{} : part->body;
}

std::string Email::Html() const {
  const auto* part = FindPart("text/html");
  return part == nullptr ? std::string{} : part->body;
}

Email ParseEmail(std::string_view raw) {
  Email email;
  email.raw = std::string(raw);
  ParseEntity(raw, email);
  std::vector<std::pair<std::string, std::string>> kept;
  for (auto& [name, value] : email.headers) {
    const std::string lower = LowerAscii(name);
    if (lower == "x-sink-mail-from") {
      email.envelope_from = value;
    } else if (lower == "x-sink-rcpt-to") {
      email.envelope_to = value;
    } else {
      kept.emplace_back(std::move(name), std::move(value));
    }
  }
  email.headers = std::move(kept);
  return email;
}

std::string DecodeEncodedWords(std::string_view value) {
  std::string out;
  std::string pending_space;  // white space after an encoded word, dropped if another follows
  bool last_was_word = false;
  std::size_t i = 0;
  while (i < value.size()) {
    if (value.substr(i, 2) == "=?") {
      // =?charset?enc?text?=
      const std::size_t q1 = value.find('?', i + 2);
      const std::size_t q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
      const std::size_t end = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
      if (end != std::string_view::npos && q2 == q1 + 2) {
        const char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(value[q1 + 1])));
        const std::string_view text = value.substr(q2 + 1, end - q2 - 1);
        if (enc == 'B' || enc == 'Q') {
          if (!last_was_word) out += pending_space;
          pending_space.clear();
          out += enc == 'B' ? DecodeBase64(text) : DecodeQuotedPrintable(text, true);
          last_was_word = true;
          i = end + 2;
          continue;
        }
      }
    }
    const char c = value[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space.push_back(c == '\r' || c == '\n' ? ' ' : c);
      ++i;
      continue;
    }
    out += pending_space;
    pending_space.clear();
    out.push_back(c);
    last_was_word = false;
    ++i;
  }
  out += pending_space;
  return out;
}

std::string HtmlUnescape(std::string_view html) {
  std::string out;
  for (std::size_t i = 0; i < html.size(); ++i) {
    if (html[i] != '&') {
      out.push_back(html[i]);
      continue;
    }
    const std::size_t semi = html.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out.push_back('&');
      continue;
    }
    const std::string entity(html.substr(i + 1, semi - i - 1));
    long code = -1;
    if (entity == "amp") code = '&';
    else if (entity == "lt") code = '<';
    else if (entity == "gt") code = '>';
    else if (entity == "quot") code = '"';
    else if (entity == "apos") code = '\'';
    else if (entity.size() > 2 && (entity[1] == 'x' || entity[1] == 'X') && entity[0] == '#') code = std::strtol(entity.c_str() + 2, nullptr, 16);
    else if (entity.size() > 1 && entity[0] == '#') code = std::strtol(entity.c_str() + 1, nullptr, 10);
    if (code < 0) {
      out.push_back('&');
      continue;
    }
    // UTF-8 of the code point.
    const auto cp = static_cast<unsigned long>(code);
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    i = semi;
  }
  return out;
}

std::string RawHref(std::string_view html, std::string_view prefix) {
  std::size_t pos = 0;
  while ((pos = html.find("href=", pos)) != std::string_view::npos) {
    pos += 5;
    if (pos >= html.size()) break;
    const char quote = html[pos];
    if (quote != '"' && quote != '\'') continue;
    const std::size_t close = html.find(quote, pos + 1);
    if (close == std::string_view::npos) break;
    const std::string raw(html.substr(pos + 1, close - pos - 1));
    if (HtmlUnescape(raw).rfind(prefix, 0) == 0) return raw;
    pos = close;
  }
  return {};
}

std::string LinkIn(std::string_view text, std::string_view prefix) {
  const std::size_t pos = text.find(prefix);
  if (pos == std::string_view::npos) return {};
  std::size_t end = pos;
  while (end < text.size()) {
    const char c = text[end];
    if (std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '<' || c == '>') break;
    ++end;
  }
  return std::string(text.substr(pos, end - pos));
}

std::string AddressOf(std::string_view mailbox) {
  const auto open = mailbox.rfind('<');
  const auto close = mailbox.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    return Trim(mailbox.substr(open + 1, close - open - 1));
  }
  return Trim(mailbox);
}

std::vector<Email> MailTo(const SmtpSink& sink, std::string_view to, std::string_view must_contain) {
  std::vector<Email> out;
  const std::string wanted = LowerAscii(to);
  for (const auto& raw : sink.Messages()) {
    Email email = ParseEmail(raw);
    if (LowerAscii(email.envelope_to) != wanted) continue;
    if (!must_contain.empty() && email.Text().find(must_contain) == std::string::npos) continue;
    out.push_back(std::move(email));
  }
  return out;
}

std::vector<Email> WaitForMailTo(const SmtpSink& sink, std::string_view to, std::size_t count,
                                 std::string_view must_contain, std::chrono::milliseconds timeout) {
  std::vector<Email> found;
  (void)WaitUntil(
      [&] {
        found = MailTo(sink, to, must_contain);
        return found.size() >= count;
      },
      timeout, std::chrono::milliseconds{25});
  return found;
}

std::optional<MailMetrics> ScrapeMailMetrics(const Http& http) {
  const Response res = http.Get("/metrics");
  if (res.status != 200) return std::nullopt;
  auto sent = MetricSum(res.body, "ikigai_mail_sent_total");
  auto depth = MetricSum(res.body, "ikigai_mail_outbox_depth");
  auto retried = MetricSum(res.body, "ikigai_mail_retried_total");
  auto failed = MetricSum(res.body, "ikigai_mail_failed_total");
  if (!sent || !depth || !retried || !failed) return std::nullopt;
  return MailMetrics{*sent, *depth, *retried, *failed};
}

}  // namespace ikigai::support

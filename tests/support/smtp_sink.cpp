// A real SMTP server (smtp_sink.py on aiosmtpd) that keeps every email the server sends.
#include "support/smtp_sink.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <signal.h>

#include "support/wait.hpp"
#include "support/text.hpp"

namespace ikigai::support {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The bodies of MIME parts declared quoted-printable or base64, decoded. A part's body runs from
// the blank line after its Content-Transfer-Encoding header to the next "--boundary" line.
std::vector<std::string> DecodedParts(std::string_view message) {
  std::vector<std::string> parts;
  std::string lower = LowerAscii(message);
  const std::string key = "content-transfer-encoding:";
  std::size_t pos = 0;
  while ((pos = lower.find(key, pos)) != std::string::npos) {
    std::size_t value_start = pos + key.size();
    std::size_t line_end = lower.find('\n', value_start);
    if (line_end == std::string::npos) break;
    std::string encoding = lower.substr(value_start, line_end - value_start);
    pos = line_end;
    std::size_t body = lower.find("\n\n", pos);
    std::size_t body_crlf = lower.find("\n\r\n", pos);
    if (body == std::string::npos && body_crlf == std::string::npos) break;
    std::size_t start = std::min(body == std::string::npos ? lower.size() : body + 2,
                                 body_crlf == std::string::npos ? lower.size() : body_crlf + 3);
    std::size_t end = lower.find("\n--", start);
    if (end == std::string::npos) end = lower.size();
    std::string_view part = message.substr(start, end - start);
    if (encoding.find("quoted-printable") != std::string::npos) {
      parts.push_back(DecodeQuotedPrintable(part));
    } else if (encoding.find("base64") != std::string::npos) {
      parts.push_back(DecodeBase64(part));
    }
  }
  return parts;
}

std::string FindLink(std::string_view text, std::string_view prefix) {
  std::size_t pos = text.find(prefix);
  if (pos == std::string_view::npos) return {};
  std::size_t end = pos;
  while (end < text.size()) {
    char c = text[end];
    if (std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '<' ||
        c == '>' || c == ')' || c == ']') {
      break;
    }
    ++end;
  }
  std::string link(text.substr(pos, end - pos));
  // A link at the end of a sentence: the full stop is not part of it.
  while (link.size() > prefix.size() &&
         std::string_view(".,;:!?").find(link.back()) != std::string_view::npos) {
    link.pop_back();
  }
  // HTML bodies escape '&' in attributes.
  for (std::size_t amp; (amp = link.find("&amp;")) != std::string::npos;) link.erase(amp + 1, 4);
  return link;
}

}  // namespace

std::string DecodeQuotedPrintable(std::string_view in, bool underscore_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '_' && underscore_is_space) {
      out.push_back(' ');
      continue;
    }
    if (in[i] != '=') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '\n') {  // soft line break
      i += 1;
    } else if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
      i += 2;
    } else if (i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back('=');
    }
  }
  return out;
}

std::string DecodeBase64(std::string_view in) {
  std::string out;
  int bits = 0;
  unsigned int buffer = 0;
  for (char c : in) {
    int value;
    if (c >= 'A' && c <= 'Z')
      value = c - 'A';
    else if (c >= 'a' && c <= 'z')
      value = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      value = c - '0' + 52;
    else if (c == '+' || c == '-')
      value = 62;
    else if (c == '/' || c == '_')
      value = 63;
    else
      continue;  // line breaks, padding
    buffer = (buffer << 6) | static_cast<unsigned int>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}


SmtpSink::SmtpSink() : dir_("ikigai-smtp-") {
  mail_dir_ = dir_.File("mail");
  std::filesystem::create_directory(mail_dir_);
  ProcessOptions options;
  options.binary = "/usr/bin/python3";  // python3-aiosmtpd is installed for this interpreter only
  options.args = {"-u", IKIGAI_SMTP_SINK, mail_dir_};
  options.env = {{"PYTHONDONTWRITEBYTECODE", "1"}};
  options.unset_env_prefixes = {"PYTHON"};
  options.output_dir = dir_.Path();
  options.name = "smtp_sink";
  process_.emplace(std::move(options));
  port_ = AwaitListeningPort(*process_, std::chrono::seconds{30});
  if (port_ == 0) {
    std::string err = process_->Stderr();
    process_.reset();
    throw std::runtime_error("smtp_sink.py did not start:\n" + err);
  }
}

SmtpSink::~SmtpSink() { Stop(); }

void SmtpSink::Stop() {
  if (!process_) return;
  if (process_->Running()) {
    process_->Signal(SIGTERM);
    if (!process_->Wait(std::chrono::seconds{10})) process_->Kill();
  }
  process_.reset();
}

std::string SmtpSink::Url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> SmtpSink::Messages() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(mail_dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.front() != '.' && name.substr(name.size() - 4) == ".eml") {
      names.push_back(entry.path().string());
    }
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> messages;
  messages.reserve(names.size());
  for (const auto& name : names) messages.push_back(ReadFile(name));
  return messages;
}

std::vector<std::string> SmtpSink::WaitForMessages(std::size_t count,
                                                   std::chrono::milliseconds timeout) const {
  std::vector<std::string> messages;
  (void)WaitUntil(
      [&] {
        messages = Messages();
        return messages.size() >= count;
      },
      timeout, std::chrono::milliseconds{20});
  return messages;
}

void SmtpSink::SetFailing(bool failing) {
  std::string flag = mail_dir_ + "/fail";
  if (failing) {
    std::ofstream(flag).put('1');
  } else {
    std::error_code ec;
    std::filesystem::remove(flag, ec);
  }
}

std::string ExtractLink(std::string_view message, std::string_view prefix) {
  for (const auto& part : DecodedParts(message)) {
    if (auto link = FindLink(part, prefix); !link.empty()) return link;
  }
  return FindLink(message, prefix);
}

std::string EmailHeader(std::string_view message, std::string_view name) {
  std::string wanted = LowerAscii(name) + ":";
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t end = message.find('\n', pos);
    if (end == std::string_view::npos) end = message.size();
    std::string_view line = message.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    if (LowerAscii(line.substr(0, wanted.size())) == wanted) {
      std::string value(line.substr(wanted.size()));
      // Folded continuation lines start with white space.
      std::size_t next = end + 1;
      while (next < message.size() && (message[next] == ' ' || message[next] == '\t')) {
        std::size_t next_end = message.find('\n', next);
        if (next_end == std::string_view::npos) next_end = message.size();
        std::string_view more = message.substr(next, next_end - next);
        if (!more.empty() && more.back() == '\r') more.remove_suffix(1);
        value += std::string(more);
        next = next_end + 1;
      }
      auto first = value.find_first_not_of(" \t");
      return first == std::string::npos ? std::string() : value.substr(first);
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace ikigai::support

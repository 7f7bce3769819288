// MIME rendering with libsodium's base64.
#include "mail/message.hpp"

#include <sodium.h>

#include <algorithm>

#include "core/text.hpp"
#include "core/time_format.hpp"

namespace ikigai::mail {
namespace {

std::string Base64(const std::string& data) {
  std::string out(sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.find('\0'));
  return out;
}

// Base64 in lines of 76 characters (RFC 2045).
std::string Base64Lines(const std::string& data) {
  const std::string b = Base64(data);
  std::string out;
  for (std::size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

bool IsPlainAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

// Header values never carry a line break: that would let a value start a header of its own.
std::string OneLine(std::string s) {
  std::replace_if(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return s;
}

}  // namespace

std::string EncodeHeaderWord(const std::string& text) {
  const std::string line = OneLine(text);
  if (IsPlainAscii(line)) return line;
  // Encoded words of at most 75 characters: split the UTF-8 text on character boundaries.
  std::string out;
  std::size_t i = 0;
  while (i < line.size()) {
    std::size_t end = std::min(line.size(), i + 45);
    while (end < line.size() && (static_cast<unsigned char>(line[end]) & 0xc0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(line.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string AddressOf(const std::string& mailbox) { return core::MailboxAddress(mailbox); }

std::string RenderMime(const OutgoingMail& mail, const std::string& from, core::TimePoint date,
                       const std::string& message_id) {
  // The display name of From may be UTF-8: encode it, keep the address as is.
  std::string from_header = OneLine(from);
  const auto open = from_header.rfind('<');
  if (open != std::string::npos && open > 0) {
    std::string name = from_header.substr(0, open);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    from_header = EncodeHeaderWord(name) + " " + from_header.substr(open);
  }
  const std::string boundary = "=_ikigai_" + message_id.substr(0, message_id.find('@'));
  std::string m;
  m += "From: " + from_header + "\r\n";
  m += "To: " + OneLine(mail.to) + "\r\n";
  m += "Subject: " + EncodeHeaderWord(mail.subject) + "\r\n";
  m += "Date: " + core::FormatHttpDate(date).replace(core::FormatHttpDate(date).size() - 3, 3, "+0000") + "\r\n";
  m += "Message-ID: <" + OneLine(message_id) + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  m += "\r\n";
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  m += Base64Lines(mail.text);
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  m += Base64Lines(mail.html);
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace ikigai::mail

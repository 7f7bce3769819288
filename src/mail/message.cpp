// MIME rendering: quoted-printable or 8bit parts, RFC 2047 headers with libsodium's base64.
#include "mail/message.hpp"

#include <sodium.h>

#include <algorithm>
#include <string_view>
#include <vector>

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

// Longest line RFC 5322 allows (without its CRLF), and so the most an 8bit part may carry.
constexpr std::size_t kMaxLineBytes = 998;
// RFC 2045 6.7 (5): encoded lines of at most 76 characters, the soft break's "=" included.
constexpr std::size_t kMaxQpLine = 76;

// The text's lines without their line ends (CRLF, LF or a lone CR all end a line).
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r' && text[i] != '\n') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

// The text with CRLF line ends and a final CRLF: what an 8bit part carries.
std::string CrlfText(std::string_view text) {
  std::string out;
  for (auto line : Lines(text)) {
    out += line;
    out += "\r\n";
  }
  return out;
}

bool Fits8bit(std::string_view text) {
  for (auto line : Lines(text)) {
    if (line.size() > kMaxLineBytes || line.find('\0') != std::string_view::npos) return false;
  }
  return true;
}

// One part of the multipart body with its headers.
std::string Part(const char* media_type, const std::string& body, BodyEncoding encoding) {
  const bool eight_bit = encoding == BodyEncoding::k8bit && Fits8bit(body);
  std::string out = std::string("Content-Type: ") + media_type + "; charset=utf-8\r\nContent-Transfer-Encoding: ";
  out += eight_bit ? "8bit" : "quoted-printable";
  out += "\r\n\r\n";
  out += eight_bit ? CrlfText(body) : QuotedPrintable(body);
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

std::string QuotedPrintable(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (auto line : Lines(text)) {
    std::size_t width = 0;  // characters on the current output line
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      const bool last = i + 1 == line.size();
      const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      char token[3] = {static_cast<char>(c), 0, 0};
      std::size_t size = 1;
      if (!literal) {
        token[0] = '=';
        token[1] = kHex[c >> 4];
        token[2] = kHex[c & 0x0f];
        size = 3;
      }
      // Room for the token and, unless it ends the line, a soft break's "=" after it.
      const std::size_t room = last ? kMaxQpLine : kMaxQpLine - 1;
      if (width + size > room) {
        out += "=\r\n";
        width = 0;
      }
      out.append(token, size);
      width += size;
    }
    out += "\r\n";
  }
  return out;
}

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
                       const std::string& message_id, BodyEncoding encoding) {
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
  m += Part("text/plain", mail.text, encoding);
  m += "--" + boundary + "\r\n";
  m += Part("text/html", mail.html, encoding);
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace ikigai::mail

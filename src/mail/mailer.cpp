// SMTP delivery with libcurl (STARTTLS when offered, timeouts bounded) and the folder transport.
#include "mail/mailer.hpp"

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>

namespace ikigai::mail {
namespace {

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t ReadUpload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t room = size * count;
  const std::size_t left = up->data->size() - up->offset;
  const std::size_t n = std::min(room, left);
  std::memcpy(buffer, up->data->data() + up->offset, n);
  up->offset += n;
  return n;
}

}  // namespace

core::Result<SmtpSettings> ParseSmtpUrl(const std::string& url) {
  auto bad = [] { return core::Fail(core::ErrorCode::kValidation, "IKIGAI_SMTP_URL: must be smtp://[user:pass@]host:port"); };
  SmtpSettings s;
  std::string scheme;
  std::string rest;
  if (url.rfind("smtp://", 0) == 0) {
    scheme = "smtp://";
    rest = url.substr(7);
  } else if (url.rfind("smtps://", 0) == 0) {
    scheme = "smtps://";
    rest = url.substr(8);
  } else {
    return bad();
  }
  const auto q = rest.find('?');
  if (q != std::string::npos) {
    const std::string query = rest.substr(q + 1);
    rest.resize(q);
    if (query == "tls=required") s.require_tls = true;
    else if (!query.empty()) return core::Fail(core::ErrorCode::kValidation, "IKIGAI_SMTP_URL: the only option is ?tls=required");
  }
  const auto at = rest.rfind('@');
  if (at != std::string::npos) {
    const std::string userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    s.username = PercentDecode(userinfo.substr(0, colon));
    if (colon != std::string::npos) s.password = PercentDecode(userinfo.substr(colon + 1));
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos) return bad();
  s.url = scheme + rest;
  return s;
}

std::string SmtpMailer::Describe() const { return settings_.url + (settings_.username.empty() ? "" : " (with AUTH)"); }

core::Result<void> SmtpMailer::Send(const std::string& from_address, const std::string& to_address,
                                    const std::string& mime) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return core::Fail(core::ErrorCode::kUnavailable, "curl_easy_init failed");
  Upload upload{&mime};
  const std::string from = "<" + from_address + ">";
  const std::string to = "<" + to_address + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, to.c_str());
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, settings_.url.c_str());
  if (!settings_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  if (settings_.url.rfind("smtp://", 0) == 0) {
    curl_easy_setopt(curl, CURLOPT_USE_SSL, settings_.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY);
  }
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(curl);
  long response = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    // libcurl's messages name hosts and SMTP replies, never the credentials we gave it.
    std::string detail = std::string(curl_easy_strerror(rc)) + (error[0] != '\0' ? std::string(": ") + error : "");
    if (response != 0) detail += " (SMTP " + std::to_string(response) + ")";
    return core::Fail(core::ErrorCode::kUnavailable, detail);
  }
  return {};
}

core::Result<void> DirectoryMailer::Send(const std::string&, const std::string&, const std::string& mime) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const std::string name =
      std::to_string(core::ToMillis(clock_.Now())) + "-" + std::to_string(counter_.fetch_add(1)) + ".eml";
  const auto tmp = dir_ / (name + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << mime;
    if (!out.flush()) return core::Fail(core::ErrorCode::kUnavailable, "cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, dir_ / name, ec);
  if (ec) return core::Fail(core::ErrorCode::kUnavailable, "cannot rename " + tmp.string());
  return {};
}

}  // namespace ikigai::mail

// Decoding of JSON request bodies: syntax and nesting depth (400), object shape (422), and a
// field reader that refuses unknown fields, so a typo or a mass-assignment attempt never passes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace ikigai::http {

inline constexpr int kMaxJsonDepth = 32;

// The message of a refused server-owned member (error code read_only).
inline constexpr const char* kServerOwned = "is set by the server and cannot be changed";

// An empty body is {}. Unparsable, nested deeper than kMaxJsonDepth, anything but white space
// after the value (a NUL byte included), or a key twice in one object (at any depth): 400
// malformed_json.
// Valid JSON that is not an object: 422 with errors.body.
[[nodiscard]] core::Result<nlohmann::json> ParseJsonObject(const std::string& body);

// For routes that take no fields: a body may be empty or {}, anything more is 400/422.
[[nodiscard]] core::Result<void> RequireNoFields(const std::string& body);

// Reads the members of a request object. Every member must be read (or the call to Finish fails
// with "is not allowed" for it); type and presence errors accumulate per field.
class FieldReader {
 public:
  explicit FieldReader(const nlohmann::json& object) : object_(object) {}

  [[nodiscard]] bool Has(const std::string& name);
  // A string member; absent: nullopt. null or another type: "must be a string" (unless nullable).
  std::optional<std::string> String(const std::string& name, bool required = false);
  std::optional<std::int64_t> Integer(const std::string& name, bool required = false);
  std::optional<bool> Boolean(const std::string& name, bool required = false);
  // A member of any type, marked as read.
  std::optional<nlohmann::json> Raw(const std::string& name, bool required = false);
  // True when the member is present and null (and marks it read).
  bool IsNull(const std::string& name);

  // Members the client may see but never set (ids, timestamps, roles): each present one is an
  // error with `message`, so a mass-assignment attempt is named as such.
  void Refuse(std::initializer_list<const char*> names, const std::string& message);

  void AddError(const std::string& field, core::FieldCode code, const std::string& message);
  [[nodiscard]] bool HasErrors() const { return !errors_.empty(); }
  // 422 with every field error and every unknown member, or success.
  [[nodiscard]] core::Result<void> Finish();

 private:
  const nlohmann::json* Member(const std::string& name, bool required);

  const nlohmann::json& object_;
  std::set<std::string> read_;
  std::map<std::string, core::FieldError> errors_;
};

}  // namespace ikigai::http

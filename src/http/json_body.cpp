// JSON body parsing with a depth limit, no trailing bytes and no repeated keys (nlohmann's SAX
// interface), and strict member reading.
#include "http/json_body.hpp"

#include <set>
#include <string>
#include <vector>

namespace ikigai::http {
namespace {

// Validates syntax, depth and key uniqueness without building anything; stops at the first
// problem. Each open object keeps the set of its keys, so a repeated key is found at any depth.
class StrictChecker final : public nlohmann::json_sax<nlohmann::json> {
 public:
  enum class Problem { kNone, kSyntax, kTooDeep, kDuplicateKey };
  Problem problem = Problem::kNone;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    if (!Enter()) return false;
    keys_.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (keys_.back().insert(k).second) return true;
    problem = Problem::kDuplicateKey;
    return false;
  }
  bool end_object() override {
    keys_.pop_back();
    return Leave();
  }
  bool start_array(std::size_t) override { return Enter(); }
  bool end_array() override { return Leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    if (problem == Problem::kNone) problem = Problem::kSyntax;
    return false;
  }

 private:
  bool Enter() {
    if (++depth_ > kMaxJsonDepth) {
      problem = Problem::kTooDeep;
      return false;
    }
    return true;
  }
  bool Leave() {
    --depth_;
    return true;
  }
  int depth_ = 0;
  std::vector<std::set<std::string>> keys_;
};

}  // namespace

core::Result<nlohmann::json> ParseJsonObject(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  // nlohmann's lexer takes a NUL byte for the end of the input, so "{}\0junk" would pass. A NUL
  // is never part of JSON text (inside a string it must be escaped, outside only white space may
  // stand), so any NUL byte makes the body malformed.
  if (body.find('\0') != std::string::npos) {
    return core::Fail(core::ErrorCode::kMalformedJson, "The request body is not valid JSON.");
  }
  StrictChecker checker;
  // strict: nothing but white space may follow the value.
  const bool ok = nlohmann::json::sax_parse(body, &checker, nlohmann::json::input_format_t::json, true);
  if (!ok || checker.problem != StrictChecker::Problem::kNone) {
    switch (checker.problem) {
      case StrictChecker::Problem::kTooDeep:
        return core::Fail(core::ErrorCode::kMalformedJson, "The request body is nested too deeply (at most 32 levels).");
      case StrictChecker::Problem::kDuplicateKey:
        return core::Fail(core::ErrorCode::kMalformedJson, "The request body has a member twice in one object.");
      case StrictChecker::Problem::kNone:
      case StrictChecker::Problem::kSyntax:
        break;
    }
    return core::Fail(core::ErrorCode::kMalformedJson, "The request body is not valid JSON.");
  }
  nlohmann::json value = nlohmann::json::parse(body, nullptr, false);
  if (value.is_discarded()) return core::Fail(core::ErrorCode::kMalformedJson);
  if (!value.is_object()) return core::FailField("body", core::FieldCode::kInvalidType, "must be a JSON object");
  return value;
}

core::Result<void> RequireNoFields(const std::string& body) {
  auto parsed = ParseJsonObject(body);
  if (!parsed) return core::Fail(parsed.error());
  FieldReader f(*parsed);
  return f.Finish();
}

const nlohmann::json* FieldReader::Member(const std::string& name, bool required) {
  read_.insert(name);
  auto it = object_.find(name);
  if (it == object_.end()) {
    if (required) AddError(name, core::FieldCode::kRequired, "is required");
    return nullptr;
  }
  return &*it;
}

bool FieldReader::Has(const std::string& name) { return object_.contains(name); }

std::optional<std::string> FieldReader::String(const std::string& name, bool required) {
  const auto* v = Member(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    AddError(name, core::FieldCode::kInvalidType, "must be a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::int64_t> FieldReader::Integer(const std::string& name, bool required) {
  const auto* v = Member(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) {
    AddError(name, core::FieldCode::kInvalidType, "must be an integer");
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    AddError(name, core::FieldCode::kOutOfRange, "is out of range");
    return std::nullopt;
  }
  return v->get<std::int64_t>();
}

std::optional<bool> FieldReader::Boolean(const std::string& name, bool required) {
  const auto* v = Member(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    AddError(name, core::FieldCode::kInvalidType, "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<nlohmann::json> FieldReader::Raw(const std::string& name, bool required) {
  const auto* v = Member(name, required);
  if (v == nullptr) return std::nullopt;
  return *v;
}

bool FieldReader::IsNull(const std::string& name) {
  auto it = object_.find(name);
  if (it == object_.end() || !it->is_null()) return false;
  read_.insert(name);
  return true;
}

void FieldReader::Refuse(std::initializer_list<const char*> names, const std::string& message) {
  for (const char* name : names) {
    if (!object_.contains(name)) continue;
    read_.insert(name);
    AddError(name, core::FieldCode::kReadOnly, message);
  }
}

void FieldReader::AddError(const std::string& field, core::FieldCode code, const std::string& message) {
  errors_.emplace(field, core::FieldError{code, message});  // the first problem of a field is the one reported
}

core::Result<void> FieldReader::Finish() {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (!read_.contains(it.key())) AddError(it.key(), core::FieldCode::kUnknownField, "is not allowed");
  }
  if (errors_.empty()) return {};
  core::Error e{core::ErrorCode::kValidation, {}, errors_, std::nullopt};
  return core::Fail(std::move(e));
}

}  // namespace ikigai::http

// The names of field codes, as API.md's Conventions list them.
#include "core/error.hpp"

namespace ikigai::core {

const char* FieldCodeName(FieldCode code) {
  switch (code) {
    case FieldCode::kRequired: return "required";
    case FieldCode::kUnknownField: return "unknown_field";
    case FieldCode::kReadOnly: return "read_only";
    case FieldCode::kInvalidType: return "invalid_type";
    case FieldCode::kTooShort: return "too_short";
    case FieldCode::kTooLong: return "too_long";
    case FieldCode::kOutOfRange: return "out_of_range";
    case FieldCode::kInvalidFormat: return "invalid_format";
    case FieldCode::kInvalidValue: return "invalid_value";
    case FieldCode::kTaken: return "taken";
    case FieldCode::kTooCommon: return "too_common";
    case FieldCode::kSameAsIdentity: return "same_as_identity";
    case FieldCode::kIncorrect: return "incorrect";
    case FieldCode::kSameAsCurrent: return "same_as_current";
    case FieldCode::kTooMany: return "too_many";
  }
  return "invalid_value";
}

}  // namespace ikigai::core
